import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCanonical } from '../codec/canonical-cbor.js';
import { generateSigner, verifyP256 } from '../crypto/p256.js';
import { epcisDocument, sensorEvent } from '../testing/epcis-fixtures.js';
import { validateEpcisDocument } from './epcis-document.js';
import { SENSOR_SIGNING_DOMAIN, sensorDataSigningBytes, signDocumentSensorData, signSensorData, SILK_EPCIS_NAMESPACE, verifiedSensorSigner } from './epcis-document-sensor-signature.js';
import { silkErrorPath } from '../testing/fixtures.js';

describe('sensor data signed at the source', () => {
  it('signs the domain tag and the canonical CBOR of the sensorElementList', () => {
    const device = generateSigner();
    const list = sensorEvent(1)['sensorElementList'];
    const bytes = sensorDataSigningBytes(list);
    assert.deepEqual(bytes.subarray(0, SENSOR_SIGNING_DOMAIN.length), SENSOR_SIGNING_DOMAIN);
    assert.deepEqual(bytes.subarray(SENSOR_SIGNING_DOMAIN.length), encodeCanonical(list as never));
    const sig = signSensorData(list, device);
    assert.ok(verifyP256(device.publicKey, bytes, new Uint8Array(Buffer.from(sig.signature, 'base64url'))));
    assert.ok(!verifyP256(device.publicKey, encodeCanonical(list as never), new Uint8Array(Buffer.from(sig.signature, 'base64url'))), 'not valid without the domain tag');
  });

  it('signs a document: the silk prefix is declared inline, the document still validates, the signer verifies', () => {
    const device = generateSigner();
    const unsigned = epcisDocument([sensorEvent(2), { ...sensorEvent(3), sensorElementList: undefined }].map((e) => JSON.parse(JSON.stringify(e)) as Record<string, unknown>));
    const { document, signed } = signDocumentSensorData(unsigned, device);
    assert.equal(signed, 1);
    assert.equal(JSON.stringify(unsigned).includes('sensorSignature'), false, 'the input is not changed');
    const { events } = validateEpcisDocument(document);
    const event = events[0]!.original;
    assert.equal(verifiedSensorSigner(event, { silk: SILK_EPCIS_NAMESPACE }, 'events[0]'), Buffer.from(device.publicKey).toString('hex'));
    assert.equal(verifiedSensorSigner(events[1]!.original, { silk: SILK_EPCIS_NAMESPACE }, 'events[1]'), undefined);
    // Under another prefix for the same namespace, and as the full IRI.
    const other = { ...event, 'x:sensorSignature': event['silk:sensorSignature'] } as Record<string, unknown>;
    delete other['silk:sensorSignature'];
    assert.ok(verifiedSensorSigner(other, { x: SILK_EPCIS_NAMESPACE }, 'events[0]') !== undefined);
    assert.equal(silkErrorPath(() => verifiedSensorSigner({ ...event, [`${SILK_EPCIS_NAMESPACE}sensorSignature`]: event['silk:sensorSignature'] }, { silk: SILK_EPCIS_NAMESPACE }, 'events[0]')), 'events[0].silk:sensorSignature');
  });

  it('refuses altered readings, a bad key, a malformed signature and a signature without readings, naming the member', () => {
    const device = generateSigner();
    const { document } = signDocumentSensorData(epcisDocument([sensorEvent(4, 3)]), device);
    const event = (document['epcisBody'] as { eventList: Record<string, unknown>[] }).eventList[0]!;
    const ns = { silk: SILK_EPCIS_NAMESPACE };
    const altered = JSON.parse(JSON.stringify(event)) as { sensorElementList: { sensorReport: { value: number }[] }[] };
    altered.sensorElementList[0]!.sensorReport[0]!.value = 3.5;
    assert.equal(silkErrorPath(() => verifiedSensorSigner(altered, ns, 'events[0]')), 'events[0].silk:sensorSignature');
    const sig = event['silk:sensorSignature'] as { device: string; signature: string };
    assert.equal(silkErrorPath(() => verifiedSensorSigner({ ...event, 'silk:sensorSignature': { ...sig, device: 'zz' } }, ns, 'events[0]')), 'events[0].silk:sensorSignature.device');
    assert.equal(silkErrorPath(() => verifiedSensorSigner({ ...event, 'silk:sensorSignature': { ...sig, signature: 'abc' } }, ns, 'events[0]')), 'events[0].silk:sensorSignature.signature');
    assert.equal(silkErrorPath(() => verifiedSensorSigner({ ...event, 'silk:sensorSignature': { ...sig, extra: 1 } }, ns, 'events[0]')), 'events[0].silk:sensorSignature');
    const { sensorElementList: _dropped, ...noReadings } = event;
    assert.equal(silkErrorPath(() => verifiedSensorSigner(noReadings, ns, 'events[0]')), 'events[0].silk:sensorSignature');
  });
});
