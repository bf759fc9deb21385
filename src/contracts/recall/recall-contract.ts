/**
 * `recall`: key recall records (paper §3.3.3, eq. 9–10, hardened) and k-of-n guardian recovery.
 *
 * It stores and checks; it never seals, opens or draws a random number. Every ciphertext, share,
 * ephemeral key and signature is made by the client (src/keys/recall, src/keys/guardians). The
 * contract checks who may write what (the org's admin for its record, set-up and cancellation;
 * the named guardian org's admin for its share), that a record's or set-up's `adminKey` is the
 * key that submits it, and the recovery delay against the proposal's timestamp.
 *
 * Signatures inside records, set-ups and requests are not verified here: the lint fence keeps
 * `src/crypto` out of contracts. They are stored for anyone to verify, and the clients do: a
 * recall checks the record's signature first, a guardian checks a request's proof of possession
 * before it releases, a requester checks the set-up's signature. The submitter's own signature
 * on the transaction is checked by every peer, which binds the stored record to the admin key.
 *
 * State: `record:<org>`, `enckey:<org>`, `guardians:<org>`, `request:<org>:<id>`,
 * `release:<org>:<id>:<index, 3 digits>` (see recall-formats.ts).
 */
import { Type } from '@sinclair/typebox';
import { ContractRefusal, query, transaction, type Contract, type StateIndex, type TransactionContext } from '../framework/contract.js';
import type { JsonValue } from '../../ledger/json-value.js';
import {
  GuardianSetupSchema, OrgName, PublicKeyHex, RecallRecordSchema, recallKeys, RecoveryRequestSchema, RequestIdHex, ShareReleaseSchema,
  type StoredEncryptionKey, type StoredGuardianSetup, type StoredRecallRecord, type StoredRecoveryRequest, type StoredShareRelease,
} from './recall-formats.js';

const ORG_ARGS = Type.Object({ org: OrgName }, { additionalProperties: false });
const REQUEST_ARGS = Type.Object({ org: OrgName, requestId: RequestIdHex }, { additionalProperties: false });

/** Refuses unless the creator is an admin of `org`. */
function requireAdminOf(ctx: TransactionContext, org: string, what: string): void {
  if (ctx.creator.role !== 'admin' || ctx.creator.org !== org) {
    throw new ContractRefusal(`${what} needs an admin of ${org}; the creator is ${ctx.creator.org}/${ctx.creator.name} (${ctx.creator.role})`);
  }
}

/** Refuses unless a signed document names this chain, the creator's org and the creator's key. */
function requireOwnDocument(ctx: TransactionContext, doc: { readonly chain: string; readonly org: string; readonly adminKey: string }, what: string): void {
  if (doc.chain !== ctx.chain) throw new ContractRefusal(`${what} is for chain ${doc.chain}, not ${ctx.chain}`);
  requireAdminOf(ctx, doc.org, what);
  if (doc.adminKey !== ctx.creator.key) throw new ContractRefusal(`${what} names admin key ${doc.adminKey}, but is submitted with ${ctx.creator.key}`);
}

function asJson(value: object): JsonValue {
  return value as unknown as JsonValue;
}

function pendingRequest(ctx: TransactionContext, org: string, requestId: string): StoredRecoveryRequest {
  const request = ctx.get(recallKeys.request(org, requestId)) as StoredRecoveryRequest | undefined;
  if (request === undefined) throw new ContractRefusal(`no recovery request ${requestId} for ${org}`);
  if (request.status !== 'pending') throw new ContractRefusal(`recovery request ${requestId} of ${org} was cancelled`);
  return request;
}

/** The `recall` contract. */
export class RecallContract implements Contract {
  readonly name = 'recall';
  readonly version = '1.0';
  readonly indexes: readonly StateIndex[] = [];

  readonly functions = {
    /**
     * Registers or re-registers (new address or legal representative, new word) the org's recall
     * record. The submitter must be an admin of the record's org and its key the record's `adminKey`.
     */
    registerRecord: transaction(Type.Object({ record: RecallRecordSchema }, { additionalProperties: false }), (ctx, { record }) => {
      requireOwnDocument(ctx, record.header, 'a recall record');
      const previous = ctx.get(recallKeys.record(record.header.org)) as StoredRecallRecord | undefined;
      const stored: StoredRecallRecord = { ...record, registeredAt: ctx.timestamp, txId: ctx.txId };
      ctx.put(recallKeys.record(record.header.org), asJson(stored));
      ctx.emit(previous === undefined ? 'recallRegistered' : 'recallReRegistered', { org: record.header.org, factsHash: record.header.factsHash, masterPublicKey: record.header.masterPublicKey });
      return { org: record.header.org, reRegistered: previous !== undefined };
    }),

    /** The org's recall record, or `null`. */
    recallRecord: query(ORG_ARGS, (ctx, { org }) => ctx.get(recallKeys.record(org)) ?? null),

    /** Publishes the creator's org's encryption public key (guardian shares are sealed to it). Admins only. */
    publishEncryptionKey: transaction(Type.Object({ publicKey: PublicKeyHex }, { additionalProperties: false }), (ctx, { publicKey }) => {
      requireAdminOf(ctx, ctx.creator.org, 'publishing an encryption key');
      const stored: StoredEncryptionKey = { org: ctx.creator.org, publicKey, publishedAt: ctx.timestamp, txId: ctx.txId };
      ctx.put(recallKeys.encryptionKey(ctx.creator.org), asJson(stored));
      ctx.emit('encryptionKeyPublished', { org: ctx.creator.org, publicKey });
      return asJson(stored);
    }),

    /** An org's published encryption key, or `null`. */
    encryptionKey: query(ORG_ARGS, (ctx, { org }) => ctx.get(recallKeys.encryptionKey(org)) ?? null),

    /**
     * Sets (or replaces) the org's guardians: k, the delay, and each guardian's sealed share and
     * commitment. Each guardian must be another org whose published encryption key the share is
     * sealed to. A replaced set-up voids pending requests made under the old one.
     */
    setupGuardians: transaction(Type.Object({ setup: GuardianSetupSchema }, { additionalProperties: false }), (ctx, { setup }) => {
      requireOwnDocument(ctx, setup, 'a guardian set-up');
      if (setup.threshold > setup.guardians.length) throw new ContractRefusal(`threshold ${setup.threshold} is above the ${setup.guardians.length} guardians`);
      const seen = new Set<string>();
      for (const [i, g] of setup.guardians.entries()) {
        if (g.org === setup.org) throw new ContractRefusal(`guardian ${i + 1} is ${g.org} itself`);
        if (seen.has(g.org)) throw new ContractRefusal(`guardian ${g.org} is named twice`);
        seen.add(g.org);
        const published = ctx.get(recallKeys.encryptionKey(g.org)) as StoredEncryptionKey | undefined;
        if (published?.publicKey !== g.encryptionKey) throw new ContractRefusal(`guardian ${i + 1} (${g.org}): the share is not sealed to ${g.org}'s published encryption key`);
      }
      const stored: StoredGuardianSetup = { ...setup, setAt: ctx.timestamp, txId: ctx.txId };
      ctx.put(recallKeys.guardians(setup.org), asJson(stored));
      ctx.emit('guardiansSet', { org: setup.org, threshold: setup.threshold, guardians: setup.guardians.map((g) => g.org), delayMs: setup.delayMs });
      return { org: setup.org, threshold: setup.threshold, guardians: setup.guardians.length };
    }),

    /** The org's guardian set-up, or `null`. */
    guardianSetup: query(ORG_ARGS, (ctx, { org }) => ctx.get(recallKeys.guardians(org)) ?? null),

    /**
     * Opens a recovery request for an org that has guardians. Any member may submit it (the new
     * key is not a member yet); the request's proof of possession is checked by the guardians.
     * The delay runs from this proposal's timestamp.
     */
    requestRecovery: transaction(Type.Object({ request: RecoveryRequestSchema }, { additionalProperties: false }), (ctx, { request }) => {
      if (request.chain !== ctx.chain) throw new ContractRefusal(`the request is for chain ${request.chain}, not ${ctx.chain}`);
      const setup = ctx.get(recallKeys.guardians(request.org)) as StoredGuardianSetup | undefined;
      if (setup === undefined) throw new ContractRefusal(`${request.org} has no guardians`);
      const key = recallKeys.request(request.org, request.requestId);
      if (ctx.get(key) !== undefined) throw new ContractRefusal(`recovery request ${request.requestId} of ${request.org} exists`);
      const stored: StoredRecoveryRequest = {
        ...request, status: 'pending', requestedAt: ctx.timestamp, requestedBy: `${ctx.creator.org}/${ctx.creator.name}`, txId: ctx.txId,
        threshold: setup.threshold, delayMs: setup.delayMs, setupTxId: setup.txId,
      };
      ctx.put(key, asJson(stored));
      ctx.emit('recoveryRequested', { org: request.org, requestId: request.requestId, newKey: request.newKey, releasableFrom: ctx.timestamp + setup.delayMs });
      return { org: request.org, requestId: request.requestId, releasableFrom: ctx.timestamp + setup.delayMs };
    }),

    /** Cancels a pending recovery request: the org's (old) admin key says no. */
    cancelRecovery: transaction(REQUEST_ARGS, (ctx, { org, requestId }) => {
      requireAdminOf(ctx, org, 'cancelling a recovery request');
      const request = pendingRequest(ctx, org, requestId);
      const cancelled: StoredRecoveryRequest = { ...request, status: 'cancelled', cancelledAt: ctx.timestamp, cancelledBy: `${ctx.creator.org}/${ctx.creator.name}` };
      ctx.put(recallKeys.request(org, requestId), asJson(cancelled));
      ctx.emit('recoveryCancelled', { org, requestId });
      return { org, requestId, status: 'cancelled' };
    }),

    /**
     * A guardian releases its share, re-sealed to the requester's encryption key. Only the admin
     * of the guardian org at `index`, only for a pending request under the set-up in force, only
     * once per guardian, and not before the request's time plus the delay (proposal timestamps).
     */
    releaseShare: transaction(Type.Object({ release: ShareReleaseSchema }, { additionalProperties: false }), (ctx, { release }) => {
      const request = pendingRequest(ctx, release.org, release.requestId);
      const setup = ctx.get(recallKeys.guardians(release.org)) as StoredGuardianSetup | undefined;
      if (setup?.txId !== request.setupTxId) throw new ContractRefusal(`the guardians of ${release.org} changed since request ${release.requestId}`);
      const guardian = setup.guardians[release.index - 1];
      if (guardian === undefined) throw new ContractRefusal(`${release.org} has no guardian ${release.index}`);
      requireAdminOf(ctx, guardian.org, `releasing share ${release.index}`);
      const releasableFrom = request.requestedAt + request.delayMs;
      if (ctx.timestamp < releasableFrom) throw new ContractRefusal(`delay not over: shares of request ${release.requestId} may be released from ${releasableFrom} (ms), ${releasableFrom - ctx.timestamp} ms from this proposal`);
      const key = recallKeys.release(release.org, release.requestId, release.index);
      if (ctx.get(key) !== undefined) throw new ContractRefusal(`guardian ${release.index} (${guardian.org}) has released its share for this request`);
      const stored: StoredShareRelease = { ...release, guardian: guardian.org, releasedAt: ctx.timestamp, txId: ctx.txId };
      ctx.put(key, asJson(stored));
      ctx.emit('shareReleased', { org: release.org, requestId: release.requestId, index: release.index, guardian: guardian.org });
      return { org: release.org, requestId: release.requestId, index: release.index };
    }),

    /** A recovery request and the shares released for it so far, or `null`. */
    recoveryRequest: query(REQUEST_ARGS, (ctx, { org, requestId }) => {
      const request = ctx.get(recallKeys.request(org, requestId));
      if (request === undefined) return null;
      const page = ctx.range(recallKeys.releasesStart(org, requestId), recallKeys.releasesEnd(org, requestId), { limit: 1000 });
      return { request, releases: page.items.map((e) => e.value) };
    }),
  };
}
