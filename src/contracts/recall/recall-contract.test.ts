/**
 * The `recall` contract with the client libraries that feed it (src/keys/recall,
 * src/keys/guardians), on a four-org embedded network. scrypt runs at a small cost here (N = 2^10);
 * the CLI tests run the default cost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Signer } from '../../crypto/p256.js';
import type { JsonValue } from '../../ledger/json-value.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from '../../network/embedded-network.js';
import { tempDir } from '../../testing/fixtures.js';
import { toHex } from '../../crypto/hash.js';
import { generateSigner } from '../../crypto/p256.js';
import { BasicContract } from '../basic/basic-contract.js';
import { deriveEncryptionKey } from '../../keys/key-tree.js';
import { generateMnemonic, mnemonicToSeed } from '../../keys/mnemonic.js';
import { masterKeyFromSeed, masterSecret } from '../../keys/slip10.js';
import { compressedPoint, deriveHpkeKeyPair, hpkeSeal } from '../../keys/hpke.js';
import { createRecallRecord, recoverFromRecord, type RecallRecord } from '../../keys/recall/recall-record.js';
import { generateRecallWord } from '../../keys/recall/recall-word.js';
import type { EnterpriseFacts } from '../../keys/recall/enterprise-facts.js';
import { createGuardianSetup } from '../../keys/guardians/guardian-setup.js';
import { createRecoveryRequest } from '../../keys/guardians/recovery-request.js';
import { createShareRelease, releaseBinding } from '../../keys/guardians/guardian-release.js';
import { recoverFromGuardians } from '../../keys/guardians/guardian-recovery.js';
import { RecallContract } from './recall-contract.js';
import type { GuardianSetup, RecoveryRequest, ShareRelease, StoredRecoveryRequest } from './recall-formats.js';

const CHAIN = 'identity';
const SPEC: NetworkSpec = {
  orgs: [{ name: 'Org1', users: ['alice'] }, { name: 'Org2' }, { name: 'Org3' }, { name: 'Org4' }],
  chains: [{ name: CHAIN, contracts: [{ name: 'recall', policy: "OR('Org1.peer', 'Org2.peer', 'Org3.peer', 'Org4.peer')" }], batch: { timeoutMs: 5 } }],
};
const FAST = { N: 2 ** 10, r: 8, p: 1 };
const FACTS: EnterpriseFacts = { registrationNumber: '91330782MA2EC0XQ7K', registeredAddress: 'No. 1 Futian Road, Yiwu, Zhejiang', legalRepresentative: 'Li Wei' };

const asJson = (v: unknown): JsonValue => v as JsonValue;

interface OrgTree {
  readonly secret: Uint8Array;
  readonly master: ReturnType<typeof masterKeyFromSeed>;
}

function newTree(): OrgTree {
  const master = masterKeyFromSeed(mnemonicToSeed(generateMnemonic()));
  return { master, secret: masterSecret(master) };
}

describe('recall contract', () => {
  let net: EmbeddedNetwork;
  let dir: ReturnType<typeof tempDir>;
  const trees = new Map<string, OrgTree>();
  const tree = (org: string): OrgTree => trees.get(org)!;
  const admin = (org: string): Signer => net.identity(org, 'admin');

  before(async () => {
    dir = tempDir();
    net = await openEmbeddedNetwork({ dataDir: dir.path, spec: SPEC, contracts: [new BasicContract(), new RecallContract()], parallelVerify: false, commitTimeoutMs: 10_000 });
    for (const org of ['Org1', 'Org2', 'Org3', 'Org4']) trees.set(org, newTree());
  });
  after(async () => {
    await net.close();
    dir.cleanup();
  });

  const submit = (fn: string, args: unknown, signer: Signer): ReturnType<ReturnType<EmbeddedNetwork['gateway']>['submit']> =>
    net.gateway('Org1').submit({ chain: CHAIN, contract: 'recall', fn, args: asJson(args) }, signer);
  const read = (fn: string, args: unknown): JsonValue | undefined => net.gateway('Org1').evaluate({ chain: CHAIN, contract: 'recall', fn, args: asJson(args) }, net.identity('Org1', 'alice'));

  describe('key recall', () => {
    let word: string;
    let registered: RecallRecord;

    it('registers a record signed by the org admin; a fresh reader recovers the 64-byte secret with word and facts', async () => {
      word = generateRecallWord();
      assert.equal(word.split(' ').length, 6);
      registered = await createRecallRecord({ secret: tree('Org1').secret, chain: CHAIN, org: 'Org1', facts: FACTS, word: { kind: 'generated', words: word }, signer: admin('Org1'), scrypt: FAST });
      assert.equal(registered.c2.length, 130, 'C2 = enc, the 65-byte r·G');
      assert.equal(registered.c1.length, 160, 'C1 = 64 bytes sealed + 16-byte tag');
      const r = await submit('registerRecord', { record: registered }, admin('Org1'));
      assert.equal(r.code, 'VALID');
      assert.deepEqual(r.response, { org: 'Org1', reRegistered: false });

      const onChain = read('recallRecord', { org: 'Org1' });
      // Only what was read from the chain, the word and the facts (re-typed with other spacing).
      const typed = { ...FACTS, registeredAddress: '  No. 1  Futian Road,\tYiwu, Zhejiang ' };
      const { secret, masterPublicKey } = await recoverFromRecord({ record: onChain, word: ` ${word.replaceAll(' ', '   ')} `, facts: typed, chain: CHAIN, org: 'Org1' });
      assert.deepEqual(secret, tree('Org1').secret);
      assert.deepEqual(masterPublicKey, tree('Org1').master.publicKey);
    });

    it('wrong word, wrong facts and an altered record each fail with their own message, in that order of checks', async () => {
      const onChain = read('recallRecord', { org: 'Org1' }) as unknown as RecallRecord;
      const wrongWord = generateRecallWord();
      await assert.rejects(recoverFromRecord({ record: onChain, word: wrongWord, facts: FACTS }), { reason: 'wrong-word', message: /^wrong word/ });
      await assert.rejects(recoverFromRecord({ record: onChain, word, facts: { ...FACTS, legalRepresentative: 'Wang Fang' } }), { reason: 'facts-differ', message: /^facts differ/ });
      const altered = [
        { ...onChain, c1: `${onChain.c1.slice(0, -2)}${onChain.c1.endsWith('00') ? '01' : '00'}` },
        { ...onChain, header: { ...onChain.header, kdf: { ...onChain.header.kdf, N: 2 ** 11 } } },
        { ...onChain, header: { ...onChain.header, masterPublicKey: toHex(tree('Org2').master.publicKey) } },
        { ...onChain, signature: 'ff'.repeat(64) },
        { ...onChain, c2: undefined },
      ];
      // The signature is checked first: an altered record fails as altered even with wrong facts and word.
      for (const record of altered) await assert.rejects(recoverFromRecord({ record, word: wrongWord, facts: { ...FACTS, registrationNumber: 'X' } }), { reason: 'record-altered', message: /^record altered/ });
      // A record re-signed by some other key after altering is refused by the contract (see below) and
      // names another admin key; read from a file it is caught by the master-key check at the latest.
      await assert.rejects(recoverFromRecord({ record: onChain, word, facts: FACTS, org: 'Org2' }), { reason: 'record-altered' });
    });

    it('refuses a weak own phrase and accepts a strong one', async () => {
      const base = { secret: tree('Org1').secret, chain: CHAIN, org: 'Org1', facts: FACTS, signer: admin('Org1'), scrypt: FAST };
      await assert.rejects(createRecallRecord({ ...base, word: { kind: 'own', phrase: 'correct horse battery staple' } }), { reason: 'weak-phrase', message: /phrase too weak: zxcvbn estimates 5\.3e\+19 guesses, at least 1e20/ });
      // The facts and the org are known to an attacker: they count as dictionary words.
      await assert.rejects(createRecallRecord({ ...base, word: { kind: 'own', phrase: 'No. 1 Futian Road, Yiwu, Zhejiang' } }), { reason: 'weak-phrase' });
      await assert.rejects(createRecallRecord({ ...base, word: { kind: 'own', phrase: 'LiWei Futian Road Yiwu' } }), { reason: 'weak-phrase' });
      const phrase = 'my dog Rex was born in Kashgar and hates cold dumplings';
      const record = await createRecallRecord({ ...base, word: { kind: 'own', phrase } });
      assert.deepEqual((await recoverFromRecord({ record, word: phrase, facts: FACTS })).secret, tree('Org1').secret);
    });

    it('re-registers on a change of address: the old facts then differ, the history keeps both', async () => {
      const moved = { ...FACTS, registeredAddress: 'Room 5, 88 Chouzhou North Road, Yiwu' };
      const record = await createRecallRecord({ secret: tree('Org1').secret, chain: CHAIN, org: 'Org1', facts: moved, word: { kind: 'generated', words: word }, signer: admin('Org1'), scrypt: FAST });
      const r = await submit('registerRecord', { record }, admin('Org1'));
      assert.deepEqual(r.response, { org: 'Org1', reRegistered: true });
      const onChain = read('recallRecord', { org: 'Org1' });
      await assert.rejects(recoverFromRecord({ record: onChain, word, facts: FACTS }), { reason: 'facts-differ' });
      assert.deepEqual((await recoverFromRecord({ record: onChain, word, facts: moved })).secret, tree('Org1').secret);
      const history = net.peer('peer0.org1').reader(CHAIN, 'recall').history('record:Org1', { order: 'asc' });
      assert.equal(history.items.length, 2);
    });

    it('takes a record only from an admin of its org whose key the record names, for this chain', async () => {
      const make = (org: string, signer: Signer, chain = CHAIN): Promise<RecallRecord> => createRecallRecord({ secret: tree(org).secret, chain, org, facts: FACTS, word: { kind: 'generated', words: word }, signer, scrypt: FAST });
      const alice = net.identity('Org1', 'alice');
      await assert.rejects(submit('registerRecord', { record: await make('Org1', alice) }, alice), { code: 'CONTRACT_ERROR', message: /needs an admin of Org1; the creator is Org1\/alice \(client\)/ });
      await assert.rejects(submit('registerRecord', { record: await make('Org1', admin('Org2')) }, admin('Org2')), { code: 'CONTRACT_ERROR', message: /needs an admin of Org1/ });
      await assert.rejects(submit('registerRecord', { record: await make('Org1', generateSigner()) }, admin('Org1')), { code: 'CONTRACT_ERROR', message: /names admin key [0-9a-f]{66}, but is submitted with/ });
      await assert.rejects(submit('registerRecord', { record: await make('Org1', admin('Org1'), 'trade') }, admin('Org1')), { code: 'CONTRACT_ERROR', message: /for chain trade, not identity/ });
      await assert.rejects(submit('registerRecord', { record: { ...(await make('Org1', admin('Org1'))), c1: 'zz' } }, admin('Org1')), { code: 'INVALID_ARGUMENT' });
      assert.equal(read('recallRecord', { org: 'Org4' }), null);
    });
  });

  describe('guardians', () => {
    let setup: GuardianSetup;
    const guardianOrgs = ['Org2', 'Org3', 'Org4'];
    const enc = (org: string): { privateKey: Uint8Array; publicKey: Uint8Array } => deriveEncryptionKey(tree(org).master);

    /** A requester with a new key; the request travels through Org1's client alice (the new key is no member). */
    async function request(): Promise<{ request: RecoveryRequest; encryptionPrivateKey: Uint8Array }> {
      const encryption = await deriveHpkeKeyPair(crypto.getRandomValues(new Uint8Array(32)));
      const req = await createRecoveryRequest({ chain: CHAIN, org: 'Org1', newKey: generateSigner(), encryptionKey: encryption.publicKey });
      const r = await submit('requestRecovery', { request: req }, net.identity('Org1', 'alice'));
      assert.equal(r.code, 'VALID');
      return { request: req, encryptionPrivateKey: encryption.privateKey };
    }
    const stored = (requestId: string): { request: StoredRecoveryRequest; releases: ShareRelease[] } => read('recoveryRequest', { org: 'Org1', requestId }) as unknown as { request: StoredRecoveryRequest; releases: ShareRelease[] };
    async function release(org: string, requestId: string): Promise<void> {
      const current = stored(requestId);
      const rel = await createShareRelease({ setup: read('guardianSetup', { org: 'Org1' }), request: current.request, guardian: org, encryptionPrivateKey: enc(org).privateKey });
      const r = await submit('releaseShare', { release: rel }, admin(org));
      assert.equal(r.code, 'VALID');
    }

    before(async () => {
      for (const org of guardianOrgs) await submit('publishEncryptionKey', { publicKey: toHex(compressedPoint(enc(org).publicKey)) }, admin(org));
      setup = await createGuardianSetup({ secret: tree('Org1').secret, chain: CHAIN, org: 'Org1', threshold: 2, guardians: guardianOrgs.map((org) => ({ org, encryptionKey: enc(org).publicKey })), delayMs: 0, signer: admin('Org1') });
      const r = await submit('setupGuardians', { setup }, admin('Org1'));
      assert.deepEqual(r.response, { org: 'Org1', threshold: 2, guardians: 3 });
    });

    it('commits k and a SHA-256 per share; k of n released shares recover the secret', async () => {
      const onChain = read('guardianSetup', { org: 'Org1' }) as unknown as GuardianSetup;
      assert.equal(onChain.threshold, 2);
      assert.deepEqual(onChain.guardians.map((g) => g.org), guardianOrgs);
      assert.ok(onChain.guardians.every((g) => /^[0-9a-f]{64}$/.test(g.shareHash)));
      const { request: req, encryptionPrivateKey } = await request();
      await release('Org2', req.requestId);
      await release('Org4', req.requestId);
      const now = stored(req.requestId);
      assert.equal(now.releases.length, 2);
      const t0 = performance.now();
      const recovered = await recoverFromGuardians({ setup: onChain, request: now.request, releases: now.releases, encryptionPrivateKey });
      console.log(`# guardian recovery (2 of 3, open + check + combine + master key): ${(performance.now() - t0).toFixed(1)} ms`);
      assert.deepEqual(recovered.secret, tree('Org1').secret);
      assert.deepEqual(recovered.used, [1, 3]);
      assert.deepEqual(recovered.failed, []);
    });

    it('k−1 shares: insufficient shares (the library alone would return wrong bytes without error)', async () => {
      const { request: req, encryptionPrivateKey } = await request();
      await release('Org3', req.requestId);
      const now = stored(req.requestId);
      await assert.rejects(recoverFromGuardians({ setup, request: now.request, releases: now.releases, encryptionPrivateKey }), { reason: 'insufficient-shares', message: /^insufficient shares: 1 valid of the 2 needed$/ });
    });

    it('an altered share is named: recovery goes on with enough valid shares, and fails as insufficient without them', async () => {
      const { request: req, encryptionPrivateKey } = await request();
      // Org3 releases a share that is not its own: sealed correctly, but failing its commitment.
      const bogus = crypto.getRandomValues(new Uint8Array(65));
      const g = setup.guardians[1]!;
      const box = await hpkeSeal(Buffer.from(req.encryptionKey, 'hex'), bogus, releaseBinding({ chain: CHAIN, org: 'Org1', requestId: req.requestId, guardian: 'Org3', index: 2, shareHash: g.shareHash, encryptionKey: req.encryptionKey }));
      await submit('releaseShare', { release: { org: 'Org1', requestId: req.requestId, index: 2, enc: toHex(box.enc), ciphertext: toHex(box.ciphertext) } }, admin('Org3'));
      await release('Org2', req.requestId);
      let now = stored(req.requestId);
      await assert.rejects(recoverFromGuardians({ setup, request: now.request, releases: now.releases, encryptionPrivateKey }), { reason: 'insufficient-shares', message: /insufficient shares: 1 valid of the 2 needed \(share of guardian Org3 \(#2\) fails its commitment\)/ });
      await release('Org4', req.requestId);
      now = stored(req.requestId);
      const recovered = await recoverFromGuardians({ setup, request: now.request, releases: now.releases, encryptionPrivateKey });
      assert.deepEqual(recovered.secret, tree('Org1').secret);
      assert.deepEqual(recovered.failed.map((f) => f.reason), ['share of guardian Org3 (#2) fails its commitment']);
      // Another requester's key cannot open the releases at all.
      const stranger = await deriveHpkeKeyPair(new Uint8Array(32).fill(9));
      await assert.rejects(recoverFromGuardians({ setup, request: now.request, releases: now.releases, encryptionPrivateKey: stranger.privateKey }), { reason: 'insufficient-shares', message: /does not open with the request's key/ });
    });

    it('a cancelled request cannot complete: the old admin cancels, guardians cannot release, recovery refuses', async () => {
      const { request: req, encryptionPrivateKey } = await request();
      await release('Org2', req.requestId);
      await release('Org3', req.requestId);
      await assert.rejects(submit('cancelRecovery', { org: 'Org1', requestId: req.requestId }, admin('Org2')), { code: 'CONTRACT_ERROR', message: /needs an admin of Org1/ });
      const r = await submit('cancelRecovery', { org: 'Org1', requestId: req.requestId }, admin('Org1'));
      assert.deepEqual(r.response, { org: 'Org1', requestId: req.requestId, status: 'cancelled' });
      await assert.rejects(release('Org4', req.requestId), { reason: 'request-cancelled' });
      const late = await createShareRelease({ setup, request: req, guardian: 'Org4', encryptionPrivateKey: enc('Org4').privateKey });
      await assert.rejects(submit('releaseShare', { release: late }, admin('Org4')), { code: 'CONTRACT_ERROR', message: /was cancelled/ });
      const now = stored(req.requestId);
      assert.equal(now.request.status, 'cancelled');
      await assert.rejects(recoverFromGuardians({ setup, request: now.request, releases: now.releases, encryptionPrivateKey }), { reason: 'request-cancelled', message: /^request cancelled: Org1's admin \(Org1\/admin\) cancelled/ });
    });

    it('guardians check the request: only the named guardian releases, once; a request not signed by its new key is refused', async () => {
      const { request: req } = await request();
      const rel = await createShareRelease({ setup, request: stored(req.requestId).request, guardian: 'Org2', encryptionPrivateKey: enc('Org2').privateKey });
      await assert.rejects(submit('releaseShare', { release: rel }, admin('Org3')), { code: 'CONTRACT_ERROR', message: /releasing share 1 needs an admin of Org2/ });
      await submit('releaseShare', { release: rel }, admin('Org2'));
      await assert.rejects(submit('releaseShare', { release: rel }, admin('Org2')), { code: 'CONTRACT_ERROR', message: /has released its share/ });
      const forged = { ...stored(req.requestId).request, encryptionKey: toHex(compressedPoint(enc('Org2').publicKey)) };
      await assert.rejects(createShareRelease({ setup, request: forged, guardian: 'Org3', encryptionPrivateKey: enc('Org3').privateKey }), { reason: 'request-unsigned' });
    });

    it('the delay is enforced by the proposal timestamp the contract sees', async () => {
      const delayed = await createGuardianSetup({ secret: tree('Org1').secret, chain: CHAIN, org: 'Org1', threshold: 2, guardians: guardianOrgs.map((org) => ({ org, encryptionKey: enc(org).publicKey })), delayMs: 4000, signer: admin('Org1') });
      await submit('setupGuardians', { setup: delayed }, admin('Org1'));
      const { request: req, encryptionPrivateKey } = await request();
      const requested = stored(req.requestId).request;
      assert.equal(requested.delayMs, 4000);
      const early = await createShareRelease({ setup: delayed, request: requested, guardian: 'Org2', encryptionPrivateKey: enc('Org2').privateKey });
      await assert.rejects(submit('releaseShare', { release: early }, admin('Org2')), { code: 'CONTRACT_ERROR', message: /delay not over: shares of request [0-9a-f]{32} may be released from \d+/ });
      await assert.rejects(createShareRelease({ setup: delayed, request: requested, guardian: 'Org2', encryptionPrivateKey: enc('Org2').privateKey, now: Date.now() }), { reason: 'delay-not-over' });
      await new Promise((resolve) => setTimeout(resolve, requested.requestedAt + 4000 - Date.now() + 20));
      await submit('releaseShare', { release: early }, admin('Org2'));
      await release('Org3', req.requestId);
      const now = stored(req.requestId);
      assert.ok(now.releases.every((r) => (r as unknown as { releasedAt: number }).releasedAt >= requested.requestedAt + 4000));
      assert.deepEqual((await recoverFromGuardians({ setup: delayed, request: now.request, releases: now.releases, encryptionPrivateKey })).secret, tree('Org1').secret);
      // A set-up replaced after a request voids it.
      await submit('setupGuardians', { setup }, admin('Org1'));
      const voided = await createShareRelease({ setup, request: now.request, guardian: 'Org4', encryptionPrivateKey: enc('Org4').privateKey });
      await assert.rejects(submit('releaseShare', { release: voided }, admin('Org4')), { code: 'CONTRACT_ERROR', message: /guardians of Org1 changed since request/ });
    });

    it('refuses set-ups that do not seal to the guardians’ published keys, name the org itself, or ask for k > n', async () => {
      const wrongKey = await createGuardianSetup({ secret: tree('Org1').secret, chain: CHAIN, org: 'Org1', threshold: 2, guardians: [{ org: 'Org2', encryptionKey: enc('Org3').publicKey }, { org: 'Org3', encryptionKey: enc('Org3').publicKey }], delayMs: 0, signer: admin('Org1') });
      await assert.rejects(submit('setupGuardians', { setup: wrongKey }, admin('Org1')), { code: 'CONTRACT_ERROR', message: /guardian 1 \(Org2\): the share is not sealed to Org2's published encryption key/ });
      await assert.rejects(submit('setupGuardians', { setup: { ...setup, threshold: 4 } }, admin('Org1')), { code: 'CONTRACT_ERROR', message: /threshold 4 is above the 3 guardians/ });
      await assert.rejects(createGuardianSetup({ secret: tree('Org1').secret, chain: CHAIN, org: 'Org1', threshold: 2, guardians: [{ org: 'Org1', encryptionKey: enc('Org2').publicKey }, { org: 'Org3', encryptionKey: enc('Org3').publicKey }], signer: admin('Org1') }), { code: 'INVALID_ARGUMENT', message: /cannot be its own guardian/ });
      await assert.rejects(submit('requestRecovery', { request: { ...(await createRecoveryRequest({ chain: CHAIN, org: 'Org4', newKey: generateSigner(), encryptionKey: enc('Org2').publicKey })) } }, admin('Org2')), { code: 'CONTRACT_ERROR', message: /Org4 has no guardians/ });
    });
  });
});
