/**
 * Sensor data signed at the source: a member's reader or device (a key registered with function
 * `device`) signs an event's `sensorElementList`, and the signature travels in the event as the
 * extension member `silk:sensorSignature` (prefix `silk` → {@link SILK_EPCIS_NAMESPACE}, declared
 * inline in the document's `@context`):
 *
 * ```json
 * "silk:sensorSignature": { "device": "<hex compressed P-256 key>", "signature": "<base64url P1363, low S>" }
 * ```
 *
 * The signed bytes are {@link SENSOR_SIGNING_DOMAIN} ‖ the canonical CBOR encoding
 * (`src/codec/canonical-cbor.ts`) of the `sensorElementList` as captured: the domain tag keeps a
 * device signature from ever being a valid proposal, certificate or block signature. The
 * signature vouches for the readings, not for the event they are attached to.
 *
 * Pure and deterministic (verification is `verifyP256`), so the `epcis` contract runs it.
 */
import { encodeCanonical, type CanonicalValue } from '../codec/canonical-cbor.js';
import { fromHex, toHex } from '../crypto/hash.js';
import { verifyP256, type Signer } from '../crypto/p256.js';
import { SilkError } from '../errors.js';

/** The JSON-LD namespace of Silkledger's EPCIS extension members. */
export const SILK_EPCIS_NAMESPACE = 'urn:silkledger:epcis:';
/** The prefix {@link signDocumentSensorData} declares for {@link SILK_EPCIS_NAMESPACE}. */
export const SILK_EPCIS_PREFIX = 'silk';
/** The expanded name of the sensor signature member. */
export const SENSOR_SIGNATURE_IRI = `${SILK_EPCIS_NAMESPACE}sensorSignature`;
/** Prefix of the bytes a device signs. */
export const SENSOR_SIGNING_DOMAIN = new TextEncoder().encode('silkledger epcis sensor data v1\u0000');

/** The value of `silk:sensorSignature`. */
export interface SensorSignature {
  /** Hex of the device's 33-byte compressed P-256 public key. */
  readonly device: string;
  /** Base64url (no padding) of the 64-byte low-S IEEE P1363 signature. */
  readonly signature: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(path: string, message: string): SilkError {
  return new SilkError('INVALID_ARGUMENT', `${path}: ${message}`, { path });
}

/**
 * The bytes a device signs for a `sensorElementList`.
 * @param sensorElementList - the list exactly as it will be captured
 * @returns {@link SENSOR_SIGNING_DOMAIN} ‖ canonical CBOR of the list
 * @throws SilkError `INVALID_ARGUMENT` when it is not a non-empty list of JSON values the encoding carries
 * @example sensorDataSigningBytes([{ sensorReport: [{ type: 'Temperature', value: 4.5, uom: 'CEL' }] }])
 */
export function sensorDataSigningBytes(sensorElementList: unknown): Uint8Array {
  if (!Array.isArray(sensorElementList) || sensorElementList.length === 0) throw invalid('sensorElementList', 'a signed sensorElementList must be a non-empty list');
  let body: Uint8Array;
  try {
    body = encodeCanonical(sensorElementList as CanonicalValue);
  } catch (e) {
    throw invalid('sensorElementList', `cannot be encoded for signing: ${(e as Error).message}`);
  }
  const out = new Uint8Array(SENSOR_SIGNING_DOMAIN.length + body.length);
  out.set(SENSOR_SIGNING_DOMAIN);
  out.set(body, SENSOR_SIGNING_DOMAIN.length);
  return out;
}

/**
 * Signs a `sensorElementList` with a device key.
 * @param sensorElementList - the readings, as they will be captured
 * @param device - the device's signer
 * @returns the member value to put under `silk:sensorSignature`
 * @throws SilkError `INVALID_ARGUMENT` as {@link sensorDataSigningBytes}
 * @example event['silk:sensorSignature'] = signSensorData(event.sensorElementList, deviceSigner)
 */
export function signSensorData(sensorElementList: unknown, device: Signer): SensorSignature {
  const signature = device.sign(sensorDataSigningBytes(sensorElementList));
  return { device: toHex(device.publicKey), signature: Buffer.from(signature).toString('base64url') };
}

/** The member names of `event` that expand to {@link SENSOR_SIGNATURE_IRI} under `namespaces`. */
function signatureMembers(event: Readonly<Record<string, unknown>>, namespaces: Readonly<Record<string, string>>): string[] {
  return Object.keys(event).filter((name) => {
    if (name === SENSOR_SIGNATURE_IRI) return true;
    const colon = name.indexOf(':');
    return colon > 0 && namespaces[name.slice(0, colon)] === SILK_EPCIS_NAMESPACE && name.slice(colon + 1) === 'sensorSignature';
  });
}

/** Prefixes an event's own inline `@context` declares. */
function ownPrefixes(event: Readonly<Record<string, unknown>>): Record<string, string> {
  const prefixes: Record<string, string> = {};
  const context = event['@context'];
  for (const entry of Array.isArray(context) ? context : [context]) {
    if (!isRecord(entry)) continue;
    for (const [prefix, iri] of Object.entries(entry)) if (!prefix.startsWith('@') && typeof iri === 'string') prefixes[prefix] = iri;
  }
  return prefixes;
}

/**
 * The name of an event's sensor signature member (e.g. `silk:sensorSignature`), if it has one.
 * @param event - the event as captured
 * @param namespaces - the document's inline prefixes (the event's own `@context` is added)
 * @example sensorSignatureMemberOf(event, { silk: SILK_EPCIS_NAMESPACE }) // 'silk:sensorSignature'
 */
export function sensorSignatureMemberOf(event: Readonly<Record<string, unknown>>, namespaces: Readonly<Record<string, string>>): string | undefined {
  return signatureMembers(event, { ...namespaces, ...ownPrefixes(event) })[0];
}

/**
 * Checks an event's sensor signature, if it has one.
 * @param event - the event as captured
 * @param namespaces - the document's inline prefixes (the event's own `@context` is added)
 * @param path - the event's path, for errors (e.g. `events[2]`)
 * @returns the device key (hex) that signed its `sensorElementList`, or `undefined` when the event carries no signature
 * @throws SilkError `INVALID_ARGUMENT` naming the member when the signature is malformed, when there is
 *   no `sensorElementList`, when two members carry one, or when it does not verify
 * @example verifiedSensorSigner(event, { silk: SILK_EPCIS_NAMESPACE }, 'events[0]') // '02ab…'
 */
export function verifiedSensorSigner(event: Readonly<Record<string, unknown>>, namespaces: Readonly<Record<string, string>>, path: string): string | undefined {
  const members = signatureMembers(event, { ...namespaces, ...ownPrefixes(event) });
  const [name, ...more] = members;
  if (name === undefined) return undefined;
  const at = `${path}.${name}`;
  if (more.length > 0) throw invalid(at, `the event carries ${members.length} sensor signatures (${members.join(', ')}); give one`);
  const value = event[name];
  if (!isRecord(value) || Object.keys(value).some((k) => k !== 'device' && k !== 'signature')) throw invalid(at, 'expected { device, signature } and nothing else');
  const { device, signature } = value;
  if (typeof device !== 'string' || !/^0[23][0-9a-f]{64}$/.test(device)) throw invalid(`${at}.device`, 'expected the hex of a 33-byte compressed P-256 public key (66 lowercase hex digits)');
  if (typeof signature !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(signature)) throw invalid(`${at}.signature`, 'expected base64url (no padding) of a 64-byte P1363 signature');
  if (event['sensorElementList'] === undefined) throw invalid(at, 'the event has no sensorElementList to sign');
  const bytes = sensorDataSigningBytes(event['sensorElementList']);
  if (!verifyP256(fromHex(device), bytes, new Uint8Array(Buffer.from(signature, 'base64url')))) {
    throw invalid(at, `the signature of device ${device} does not verify over the event's sensorElementList (altered readings, another key, or not low-S P1363)`);
  }
  return device;
}

/** An EPCIS document with its events' `eventList` (either document type). */
function eventListOf(document: Record<string, unknown>): Record<string, unknown>[] {
  const body = document['epcisBody'];
  if (!isRecord(body)) throw invalid('epcisBody', 'the document has no epcisBody');
  const direct = body['eventList'];
  const results = isRecord(body['queryResults']) && isRecord(body['queryResults']['resultsBody']) ? body['queryResults']['resultsBody']['eventList'] : undefined;
  const list = direct ?? results;
  if (!Array.isArray(list)) throw invalid('epcisBody.eventList', 'the document has no eventList');
  return list as Record<string, unknown>[];
}

/**
 * Signs every event with a `sensorElementList` with a device key: declares the `silk` prefix in
 * the document's `@context` (unless some prefix already maps to {@link SILK_EPCIS_NAMESPACE}) and
 * sets its sensor signature member on each such event, replacing an earlier one. The input is
 * not changed.
 * @param document - a parsed EPCIS document
 * @param device - the device's signer
 * @returns the signed copy and how many events were signed
 * @throws SilkError `INVALID_ARGUMENT` when the document has no event list, when the prefix `silk`
 *   is taken by another namespace, or when a sensorElementList cannot be encoded
 * @example const { document: signed, signed: n } = signDocumentSensorData(JSON.parse(text), device)
 */
export function signDocumentSensorData(document: unknown, device: Signer): { readonly document: Record<string, unknown>; readonly signed: number } {
  if (!isRecord(document)) throw invalid('', 'an EPCIS document must be a JSON object');
  const copy = structuredClone(document);
  const context = copy['@context'];
  const entries: unknown[] = Array.isArray(context) ? [...(context as unknown[])] : context === undefined ? [] : [context];
  const declared = entries.filter(isRecord).flatMap((e) => Object.entries(e)).find(([, iri]) => iri === SILK_EPCIS_NAMESPACE)?.[0];
  let prefix = declared;
  if (prefix === undefined) {
    if (entries.some((e) => isRecord(e) && e[SILK_EPCIS_PREFIX] !== undefined)) throw invalid('@context', `the prefix '${SILK_EPCIS_PREFIX}' is declared for another namespace; sensor signatures need it for ${SILK_EPCIS_NAMESPACE}`);
    prefix = SILK_EPCIS_PREFIX;
    entries.push({ [prefix]: SILK_EPCIS_NAMESPACE });
    copy['@context'] = entries;
  }
  let signed = 0;
  for (const event of eventListOf(copy)) {
    if (event['sensorElementList'] === undefined) continue;
    for (const name of signatureMembers(event, { [prefix]: SILK_EPCIS_NAMESPACE, ...ownPrefixes(event) })) Reflect.deleteProperty(event, name);
    event[`${prefix}:sensorSignature`] = { ...signSensorData(event['sensorElementList'], device) };
    signed += 1;
  }
  return { document: copy, signed };
}
