/**
 * `silk recall register | recover` against a running node, at the CLI's default scrypt cost
 * (N = 2^17, r = 8, p = 1). Recovery runs in a fresh folder with nothing but the word, the facts
 * and the node's address.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { embeddedApiBackend } from '../../api/backend.js';
import { createApiServer, type ApiServer } from '../../api/server.js';
import { toHex } from '../../crypto/hash.js';
import { BasicContract } from '../../contracts/basic/basic-contract.js';
import { RecallContract } from '../../contracts/recall/recall-contract.js';
import type { RecallRecord } from '../../contracts/recall/recall-formats.js';
import { generateMnemonic, mnemonicToSeed } from '../../keys/mnemonic.js';
import { masterKeyFromSeed, masterSecret } from '../../keys/slip10.js';
import { openEmbeddedNetwork, type EmbeddedNetwork, type NetworkSpec } from '../../network/embedded-network.js';
import { runCli } from '../../testing/cli-run.js';
import { tempDir } from '../../testing/fixtures.js';

const SPEC: NetworkSpec = {
  orgs: [{ name: 'SellerCN', users: ['clerk'] }, { name: 'BuyerDE' }],
  chains: [{ name: 'identity', contracts: [{ name: 'recall', policy: "OR('SellerCN.peer', 'BuyerDE.peer')" }], batch: { timeoutMs: 5 } }],
};
const FACTS = ['--registration-number', '91330782MA2EC0XQ7K', '--registered-address', 'No. 1 Futian Road, Yiwu, Zhejiang', '--legal-representative', 'Li Wei'];

describe('silk recall', () => {
  let net: EmbeddedNetwork;
  let api: ApiServer;
  let url: string[];
  const dir = tempDir('silk-recall-net-');
  const scratch = tempDir('silk-recall-');
  const mnemonic = generateMnemonic();
  const secret = masterSecret(masterKeyFromSeed(mnemonicToSeed(mnemonic)));
  let adminKey: string;
  let mnemonicFile: string;
  let word: string;

  before(async () => {
    net = await openEmbeddedNetwork({ dataDir: dir.path, spec: SPEC, contracts: [new BasicContract(), new RecallContract()], parallelVerify: false, commitTimeoutMs: 10_000 });
    api = await createApiServer({ backend: embeddedApiBackend(net, { org: 'SellerCN' }), rateLimitPerMinute: 0 });
    url = ['--url', await api.listen({ port: 0 })];
    adminKey = join(net.keysDir, 'SellerCN', 'admin.pem');
    mnemonicFile = join(scratch.path, 'mnemonic.txt');
    writeFileSync(mnemonicFile, `${mnemonic}\n`, { mode: 0o600 });
  });
  after(async () => {
    await api.close();
    await net.close();
    dir.cleanup();
    scratch.cleanup();
  });

  it('register: six fresh BIP39 words, the default scrypt cost N=2^17 r=8 p=1, the record on chain', async () => {
    const t0 = performance.now();
    const r = await runCli(['recall', 'register', '--chain', 'identity', '--org', 'SellerCN', '--mnemonic-file', mnemonicFile, '--key', adminKey, ...FACTS, '--json', ...url]);
    const wallMs = performance.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { record: RecallRecord; word: string; txId: string; sealMs: number };
    assert.deepEqual(out.record.header.kdf, { alg: 'scrypt', N: 2 ** 17, r: 8, p: 1 });
    word = out.word;
    const words = word.split(' ');
    assert.equal(words.length, 6);
    assert.ok(words.every((w) => wordlist.includes(w)), word);
    assert.equal(out.record.header.masterPublicKey, toHex(masterKeyFromSeed(mnemonicToSeed(mnemonic)).publicKey));
    console.log(`# recall register at the default cost: ${out.sealMs} ms sealing (scrypt + HPKE + signature), ${Math.round(wallMs)} ms for the whole command`);
    const human = await runCli(['query', 'identity', 'recall', '--state', 'record:SellerCN', ...url]);
    assert.match(human.stdout, /"idkPublicKey"/);
  });

  it('recover in a fresh folder: word, facts and the node give back the 64-byte master secret', async () => {
    const fresh = tempDir('silk-recall-fresh-');
    try {
      writeFileSync(join(fresh.path, 'word.txt'), `${word}\n`);
      const out = join(fresh.path, 'secret.json');
      const t0 = performance.now();
      const r = await runCli(['recall', 'recover', '--chain', 'identity', '--org', 'SellerCN', '--word-file', join(fresh.path, 'word.txt'), ...FACTS, '--out', out, ...url]);
      const wallMs = performance.now() - t0;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Recovered the master key of SellerCN: record signature, facts, word and master public key all check\.$/m);
      const file = JSON.parse(readFileSync(out, 'utf8')) as { secret: string; masterPublicKey: string };
      assert.equal(file.secret, toHex(secret));
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const took = /Took\s+(\d+) ms/.exec(r.stdout)?.[1];
      console.log(`# recall recover at the default cost: ${took ?? '?'} ms (scrypt + HPKE open + checks), ${Math.round(wallMs)} ms for the whole command`);
      // Never overwrites without --force.
      const again = await runCli(['recall', 'recover', '--chain', 'identity', '--org', 'SellerCN', '--word-file', join(fresh.path, 'word.txt'), ...FACTS, '--out', out, ...url]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /secret\.json exists: give --force to replace it/);
    } finally {
      fresh.cleanup();
    }
  });

  it('wrong word, wrong facts and an altered record each fail with their own message', async () => {
    const wrongWordFile = join(scratch.path, 'wrong-word.txt');
    writeFileSync(wrongWordFile, word.split(' ').reverse().join(' '));
    const wordFile = join(scratch.path, 'word.txt');
    writeFileSync(wordFile, word);
    const base = ['recall', 'recover', '--chain', 'identity', '--org', 'SellerCN'];
    const wrongWord = await runCli([...base, '--word-file', wrongWordFile, ...FACTS, '--out', join(scratch.path, 'a.json'), ...url]);
    assert.equal(wrongWord.code, 3);
    assert.match(wrongWord.stderr, /^silk: recall failed: wrong word/);
    const facts = [...FACTS.slice(0, 5), 'Wang Fang'];
    const wrongFacts = await runCli([...base, '--word-file', wordFile, ...facts, '--out', join(scratch.path, 'b.json'), ...url]);
    assert.equal(wrongFacts.code, 3);
    assert.match(wrongFacts.stderr, /^silk: recall failed: facts differ/);
    // An altered copy of the record, recovered offline from a file.
    const stored = net.peer('peer0.sellercn').reader('identity', 'recall').entry('record:SellerCN')!.value as unknown as RecallRecord;
    const altered = { ...stored, header: { ...stored.header, kdf: { ...stored.header.kdf, N: 2 ** 10 } } };
    const recordFile = join(scratch.path, 'altered.json');
    writeFileSync(recordFile, JSON.stringify(altered));
    const alteredRun = await runCli([...base, '--word-file', wordFile, ...FACTS, '--record', recordFile, '--out', join(scratch.path, 'c.json'), '--json']);
    assert.equal(alteredRun.code, 3);
    assert.match(alteredRun.stderr, /^silk: recall failed: record altered: its admin signature does not verify/);
    assert.equal((JSON.parse(alteredRun.stdout) as { error: { reason: string } }).error.reason, 'record-altered');
  });

  it('register refuses a weak own phrase (zxcvbn below 1e20 guesses), and a non-admin key is refused by the contract', async () => {
    const phraseFile = join(scratch.path, 'phrase.txt');
    writeFileSync(phraseFile, 'correct horse battery staple');
    const weak = await runCli(['recall', 'register', '--chain', 'identity', '--org', 'SellerCN', '--mnemonic-file', mnemonicFile, '--key', adminKey, ...FACTS, '--phrase-file', phraseFile, ...url]);
    assert.equal(weak.code, 2);
    assert.match(weak.stderr, /phrase too weak: zxcvbn estimates 5\.3e\+19 guesses, at least 1e20 are needed/);
    const clerk = await runCli(['recall', 'register', '--chain', 'identity', '--org', 'SellerCN', '--mnemonic-file', mnemonicFile, '--key', join(net.keysDir, 'SellerCN', 'clerk.pem'), ...FACTS, ...url]);
    assert.equal(clerk.code, 4);
    assert.match(clerk.stderr, /CONTRACT_ERROR: a recall record needs an admin of SellerCN/);
  });
});
