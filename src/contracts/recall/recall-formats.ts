/**
 * The wire formats of key recall and guardian recovery: what the `recall` contract stores and
 * what clients build, seal, sign and check (src/keys/recall, src/keys/guardians). TypeBox
 * schemas only, no crypto, so the contract and the clients share one definition.
 *
 * Bytes travel as lower-case hex, one spelling per value. Public keys are 33-byte compressed
 * P-256 points; HPKE's encapsulated keys (`enc`, the paper's C2 = r·G) are 65-byte
 * uncompressed points, as RFC 9180 serialises them.
 */
import { Type, type Static } from '@sinclair/typebox';

/** The HPKE suite of every sealed value (RFC 9180 base mode). */
export const RECALL_HPKE_SUITE = 'DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM' as const;

/** Largest scrypt cost a record may name (a reader refuses more: 2^20 × 16 × 128 B = 2 GiB). */
export const RECALL_SCRYPT_CAPS = { N: 2 ** 20, r: 16, p: 4 } as const;

/** Longest delay a guardian set-up may ask for: one year. */
export const MAX_GUARDIAN_DELAY_MS = 366 * 24 * 3600 * 1000;

/** Most guardians of one org (the Shamir library's limit is 255). */
export const MAX_GUARDIANS = 32;

export const ChainName = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$' });
export const OrgName = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$' });
/** A 33-byte compressed P-256 public key. */
export const PublicKeyHex = Type.String({ pattern: '^0[23][0-9a-f]{64}$' });
/** A 65-byte uncompressed P-256 point: HPKE's `enc`. */
export const EncHex = Type.String({ pattern: '^04[0-9a-f]{128}$' });
/** A SHA-256 digest. */
export const HashHex = Type.String({ pattern: '^[0-9a-f]{64}$' });
/** A 64-byte P1363 signature (r‖s). */
export const SignatureHex = Type.String({ pattern: '^[0-9a-f]{128}$' });
/** The sealed 64-byte master secret: 64 bytes of AES-256-GCM ciphertext and a 16-byte tag. */
export const SealedSecretHex = Type.String({ pattern: '^[0-9a-f]{160}$' });
/** A sealed Shamir share of the 64-byte secret: 65 bytes (64 y-bytes and the x-coordinate) and a tag. */
export const SealedShareHex = Type.String({ pattern: '^[0-9a-f]{162}$' });
/** A recovery request id: 16 random bytes. */
export const RequestIdHex = Type.String({ pattern: '^[0-9a-f]{32}$' });

const Suite = Type.Literal(RECALL_HPKE_SUITE);

/** The scrypt cost of `ID(x)`, stored in the record so a reader can repeat it. */
export const ScryptCostSchema = Type.Object({
  alg: Type.Literal('scrypt'),
  N: Type.Integer({ minimum: 2, maximum: RECALL_SCRYPT_CAPS.N }),
  r: Type.Integer({ minimum: 1, maximum: RECALL_SCRYPT_CAPS.r }),
  p: Type.Integer({ minimum: 1, maximum: RECALL_SCRYPT_CAPS.p }),
}, { additionalProperties: false });

/** The record header: everything but the sealed secret and the signature. It is the HPKE AAD. */
export const RecallHeaderSchema = Type.Object({
  v: Type.Literal(1),
  suite: Suite,
  kdf: ScryptCostSchema,
  chain: ChainName,
  org: OrgName,
  /** SHA-256 of the normalised enterprise facts (src/keys/recall/enterprise-facts.ts). */
  factsHash: HashHex,
  /** The master public key the sealed secret must give back. */
  masterPublicKey: PublicKeyHex,
  /** IDK: the public key derived from ID(x); the secret is sealed to it. */
  idkPublicKey: PublicKeyHex,
  /** The org admin key that signs the record (and submits it). */
  adminKey: PublicKeyHex,
}, { additionalProperties: false });
export type RecallHeader = Static<typeof RecallHeaderSchema>;

/** A recall record (paper eq. 10, hardened): header, C2 = enc, C1 = ciphertext, admin signature. */
export const RecallRecordSchema = Type.Object({
  header: RecallHeaderSchema,
  c2: EncHex,
  c1: SealedSecretHex,
  signature: SignatureHex,
}, { additionalProperties: false });
export type RecallRecord = Static<typeof RecallRecordSchema>;

/** One guardian of a set-up: its org, the key its share is sealed to, the commitment and the sealed share. */
export const GuardianShareSchema = Type.Object({
  org: OrgName,
  encryptionKey: PublicKeyHex,
  /** SHA-256 of the share bytes: the commitment every later copy of the share is checked against. */
  shareHash: HashHex,
  enc: EncHex,
  ciphertext: SealedShareHex,
}, { additionalProperties: false });
export type GuardianShare = Static<typeof GuardianShareSchema>;

/** A k-of-n guardian set-up of an org's 64-byte master secret, signed by its admin. */
export const GuardianSetupSchema = Type.Object({
  v: Type.Literal(1),
  suite: Suite,
  chain: ChainName,
  org: OrgName,
  threshold: Type.Integer({ minimum: 2, maximum: MAX_GUARDIANS }),
  /** How long after a recovery request guardians may release (the old admin can cancel meanwhile). */
  delayMs: Type.Integer({ minimum: 0, maximum: MAX_GUARDIAN_DELAY_MS }),
  masterPublicKey: PublicKeyHex,
  adminKey: PublicKeyHex,
  /** Guardian i (1-based) is `guardians[i - 1]`. */
  guardians: Type.Array(GuardianShareSchema, { minItems: 2, maxItems: MAX_GUARDIANS }),
  signature: SignatureHex,
}, { additionalProperties: false });
export type GuardianSetup = Static<typeof GuardianSetupSchema>;

/** A recovery request: a new key asks the guardians for the org's shares, sealed to `encryptionKey`. */
export const RecoveryRequestSchema = Type.Object({
  v: Type.Literal(1),
  chain: ChainName,
  org: OrgName,
  requestId: RequestIdHex,
  /** The new signing key; `signature` is its proof of possession over the request. */
  newKey: PublicKeyHex,
  /** Where guardians seal their shares to. */
  encryptionKey: PublicKeyHex,
  signature: SignatureHex,
}, { additionalProperties: false });
export type RecoveryRequest = Static<typeof RecoveryRequestSchema>;

/** A request as the chain keeps it. */
export interface StoredRecoveryRequest extends RecoveryRequest {
  readonly status: 'pending' | 'cancelled';
  /** Proposal time of the request (ms): the delay runs from here. */
  readonly requestedAt: number;
  readonly requestedBy: string;
  readonly txId: string;
  /** Copied from the set-up in force when requested. */
  readonly threshold: number;
  readonly delayMs: number;
  /** Transaction that wrote the set-up in force when requested. */
  readonly setupTxId: string;
  readonly cancelledAt?: number;
  readonly cancelledBy?: string;
}

/** A guardian's share re-sealed to the requester. */
export const ShareReleaseSchema = Type.Object({
  org: OrgName,
  requestId: RequestIdHex,
  /** 1-based guardian index in the set-up. */
  index: Type.Integer({ minimum: 1, maximum: MAX_GUARDIANS }),
  enc: EncHex,
  ciphertext: SealedShareHex,
}, { additionalProperties: false });
export type ShareRelease = Static<typeof ShareReleaseSchema>;

/** A release as the chain keeps it. */
export interface StoredShareRelease extends ShareRelease {
  readonly guardian: string;
  readonly releasedAt: number;
  readonly txId: string;
}

/** A set-up as the chain keeps it. */
export interface StoredGuardianSetup extends GuardianSetup {
  readonly setAt: number;
  readonly txId: string;
}

/** A published encryption key as the chain keeps it. */
export interface StoredEncryptionKey {
  readonly org: string;
  readonly publicKey: string;
  readonly publishedAt: number;
  readonly txId: string;
}

/** A recall record as the chain keeps it. */
export interface StoredRecallRecord extends RecallRecord {
  readonly registeredAt: number;
  readonly txId: string;
}

/** State keys of the `recall` contract. */
export const recallKeys = {
  record: (org: string): string => `record:${org}`,
  encryptionKey: (org: string): string => `enckey:${org}`,
  guardians: (org: string): string => `guardians:${org}`,
  request: (org: string, requestId: string): string => `request:${org}:${requestId}`,
  release: (org: string, requestId: string, index: number): string => `release:${org}:${requestId}:${String(index).padStart(3, '0')}`,
  releasesStart: (org: string, requestId: string): string => `release:${org}:${requestId}:`,
  releasesEnd: (org: string, requestId: string): string => `release:${org}:${requestId};`,
} as const;
