/**
 * The recall record (paper eq. 10, hardened) and recovery from it.
 *
 * The escrowed secret is the 64-byte master private key ‖ chain code (the paper escrows the key
 * alone, and the tree could not be rebuilt from it). It is sealed with HPKE base mode,
 * DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM to `IDK` (recall-key.ts): `C2` = `enc`
 * (the ephemeral r·G), `C1` = the ciphertext. The header (scrypt cost, chain, org, facts hash,
 * master public key, IDK public key, admin key, version, suite) is the AEAD's associated data,
 * and the org's admin key signs header, C1 and C2.
 *
 * Recovery checks, in order, and says which failed: the record's signature ("record altered"),
 * the facts hash ("facts differ"), the word ("wrong word": IDK differs or the box does not
 * open), and the recovered master public key against the registered one.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { bytesEqual, fromHex, toHex } from '../../crypto/hash.js';
import { SilkError } from '../../errors.js';
import { RECALL_HPKE_SUITE, RecallRecordSchema, type RecallHeader, type RecallRecord } from '../../contracts/recall/recall-formats.js';
import { encodeCanonical } from '../../codec/canonical-cbor.js';
import { masterKeyFromSecret } from '../slip10.js';
import { hpkeOpen, hpkeSeal, type HpkeBinding } from '../hpke.js';
import { signDocument, verifyDocument, type DocumentSigner } from './document-signature.js';
import { enterpriseFactsHash, type EnterpriseFacts } from './enterprise-facts.js';
import { DEFAULT_RECALL_SCRYPT, deriveRecallKey, type ScryptCost } from './recall-key.js';
import { assertOwnPhraseStrong, normaliseRecallWord } from './recall-word.js';
import { RecoveryError } from './recovery-error.js';

export type { RecallHeader, RecallRecord } from '../../contracts/recall/recall-formats.js';

/** Signature domain of records. */
const RECORD_DOMAIN = 'silkledger/recall-record/v1';
/** HPKE `info` of the recall seal. */
const RECALL_INFO = new TextEncoder().encode('silkledger/recall/v1');
/** Length of the escrowed secret: master private key ‖ chain code. */
export const RECALL_SECRET_BYTES = 64;

const recordCheck = TypeCompiler.Compile(RecallRecordSchema);

/**
 * The recall word: six generated BIP39 words, or an own phrase that must pass zxcvbn (≥ 10^20
 * guesses). Saying which is the caller's job: only an own phrase is estimated.
 */
export type RecallWord = { readonly kind: 'generated'; readonly words: string } | { readonly kind: 'own'; readonly phrase: string };

/** Parameters of {@link createRecallRecord}. */
export interface CreateRecallRecordParameters {
  /** 64 bytes: master private key ‖ chain code (`masterSecret` of slip10.ts). */
  readonly secret: Uint8Array;
  readonly chain: string;
  readonly org: string;
  readonly facts: EnterpriseFacts;
  readonly word: RecallWord;
  /** The org's admin key: signs the record, and must submit it. */
  readonly signer: DocumentSigner;
  /** scrypt cost of ID(x); {@link DEFAULT_RECALL_SCRYPT} unless a test asks for less. */
  readonly scrypt?: ScryptCost;
}

/** The AEAD associated data of a record: canonical CBOR of `{d: 'silkledger/recall-header/v1', header}`. */
export function recallHeaderAad(header: RecallHeader): Uint8Array {
  return encodeCanonical({ d: 'silkledger/recall-header/v1', header: { ...header, kdf: { ...header.kdf } } });
}

function binding(header: RecallHeader): HpkeBinding {
  return { info: RECALL_INFO, aad: recallHeaderAad(header) };
}

function signedPart(header: RecallHeader, c1: string, c2: string): { header: RecallHeader & { kdf: RecallHeader['kdf'] }; c1: string; c2: string } {
  return { header: { ...header, kdf: { ...header.kdf } }, c1, c2 };
}

function wordText(word: RecallWord, userInputs: readonly string[]): string {
  if (word.kind === 'own') {
    assertOwnPhraseStrong(word.phrase, userInputs);
    return word.phrase;
  }
  return word.words;
}

/**
 * Builds and signs an org's recall record.
 * @param params the secret, where it belongs, the facts, the word and the admin signer
 * @returns the record, ready for the `recall` contract's `registerRecord`
 * @throws SilkError INVALID_ARGUMENT for a secret that is not 64 bytes with a valid key, an empty fact
 * @throws RecoveryError weak-phrase for an own phrase below 10^20 estimated guesses
 * @example const record = await createRecallRecord({ secret: masterSecret(master), chain: 'identity', org: 'SellerCN', facts, word: { kind: 'generated', words }, signer: admin });
 */
export async function createRecallRecord(params: CreateRecallRecordParameters): Promise<RecallRecord> {
  if (!(params.secret instanceof Uint8Array) || params.secret.length !== RECALL_SECRET_BYTES) throw new SilkError('INVALID_ARGUMENT', 'the escrowed secret must be 64 bytes: master private key ‖ chain code');
  const masterPublicKey = masterKeyFromSecret(params.secret).publicKey;
  const factsHash = enterpriseFactsHash(params.facts);
  // What an attacker knows counts as dictionary words for zxcvbn: the org and the facts, whole and word by word.
  const known = [params.org, params.facts.registrationNumber, params.facts.registeredAddress, params.facts.legalRepresentative];
  const word = wordText(params.word, [...known, ...known.flatMap((k) => k.split(/[\s,.;:/#-]+/u)).filter((w) => w.length > 1)]);
  const cost = params.scrypt ?? DEFAULT_RECALL_SCRYPT;
  const idk = await deriveRecallKey(word, { chain: params.chain, org: params.org, factsHash }, cost);
  idk.privateKey.fill(0);
  const header: RecallHeader = {
    v: 1,
    suite: RECALL_HPKE_SUITE,
    kdf: { alg: 'scrypt', N: cost.N, r: cost.r, p: cost.p },
    chain: params.chain,
    org: params.org,
    factsHash: toHex(factsHash),
    masterPublicKey: toHex(masterPublicKey),
    idkPublicKey: toHex(idk.publicKey),
    adminKey: toHex(params.signer.publicKey),
  };
  const box = await hpkeSeal(idk.publicKey, params.secret, binding(header));
  const c1 = toHex(box.ciphertext);
  const c2 = toHex(box.enc);
  const signature = await signDocument(params.signer, RECORD_DOMAIN, signedPart(header, c1, c2));
  return { header, c2, c1, signature };
}

/** True when the record's admin signature verifies under its `adminKey`. */
export function verifyRecallRecordSignature(record: RecallRecord): boolean {
  return verifyDocument(record.header.adminKey, RECORD_DOMAIN, signedPart(record.header, record.c1, record.c2), record.signature);
}

/** Parameters of {@link recoverFromRecord}. */
export interface RecoverFromRecordParameters {
  /** The record as read from the chain or a file (checked here). */
  readonly record: unknown;
  readonly word: string;
  readonly facts: EnterpriseFacts;
  /** When given, the record must be for this chain and org. */
  readonly chain?: string;
  readonly org?: string;
}

/** What {@link recoverFromRecord} gives back. */
export interface RecoveredSecret {
  /** 64 bytes: master private key ‖ chain code. Wipe it after use. */
  readonly secret: Uint8Array;
  /** The master public key, equal to the record's. */
  readonly masterPublicKey: Uint8Array;
  readonly header: RecallHeader;
}

function checkedRecord(input: unknown, chain: string | undefined, org: string | undefined): RecallRecord {
  // The chain stores the record with its own fields (time, tx id): only the signed ones count.
  const r = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const record: unknown = { header: r.header, c2: r.c2, c1: r.c1, signature: r.signature };
  if (!recordCheck.Check(record)) {
    const first = recordCheck.Errors(record).First();
    throw new RecoveryError('record-altered', `record altered: not a well-formed recall record${first === undefined ? '' : ` (${first.path || '/'}: ${first.message})`}`);
  }
  if (!verifyRecallRecordSignature(record)) throw new RecoveryError('record-altered', 'record altered: its admin signature does not verify');
  if ((chain !== undefined && record.header.chain !== chain) || (org !== undefined && record.header.org !== org)) {
    throw new RecoveryError('record-altered', `record altered: it is the record of ${record.header.org} on chain ${record.header.chain}, not of ${org ?? record.header.org} on ${chain ?? record.header.chain}`);
  }
  return record;
}

async function openWithWord(record: RecallRecord, word: string, factsHash: Uint8Array): Promise<Uint8Array> {
  const { header } = record;
  const idk = await deriveRecallKey(word, { chain: header.chain, org: header.org, factsHash }, header.kdf);
  try {
    if (toHex(idk.publicKey) !== header.idkPublicKey) throw new RecoveryError('wrong-word', 'wrong word: it does not give the record\'s key (IDK)');
    try {
      return await hpkeOpen(idk.privateKey, { enc: fromHex(record.c2), ciphertext: fromHex(record.c1) }, binding(header));
    } catch (cause) {
      throw new RecoveryError('wrong-word', 'wrong word: the sealed secret does not open', {}, { cause });
    }
  } finally {
    idk.privateKey.fill(0);
  }
}

/**
 * Recovers the 64-byte master secret from a recall record with the word and the facts. Needs
 * nothing else: no key, no data folder.
 * @throws RecoveryError record-altered, facts-differ, wrong-word or master-key-differs (checked in
 *   that order), cost-too-high when the record asks for more scrypt than the caps
 * @example const { secret } = await recoverFromRecord({ record, word, facts, chain: 'identity', org: 'SellerCN' });
 */
export async function recoverFromRecord(params: RecoverFromRecordParameters): Promise<RecoveredSecret> {
  const record = checkedRecord(params.record, params.chain, params.org);
  const factsHash = enterpriseFactsHash(params.facts);
  if (toHex(factsHash) !== record.header.factsHash) {
    throw new RecoveryError('facts-differ', 'facts differ: the registration number, registered address or legal representative given do not hash to the record\'s facts hash');
  }
  const secret = await openWithWord(record, normaliseRecallWord(params.word), factsHash);
  let masterPublicKey: Uint8Array;
  try {
    masterPublicKey = masterKeyFromSecret(secret).publicKey;
  } catch (cause) {
    secret.fill(0);
    throw new RecoveryError('master-key-differs', 'master public key differs: the opened secret is not a master key', {}, { cause });
  }
  if (!bytesEqual(masterPublicKey, fromHex(record.header.masterPublicKey))) {
    secret.fill(0);
    throw new RecoveryError('master-key-differs', `master public key differs: the opened secret gives ${toHex(masterPublicKey)}, the record registers ${record.header.masterPublicKey}`);
  }
  return { secret, masterPublicKey, header: record.header };
}
