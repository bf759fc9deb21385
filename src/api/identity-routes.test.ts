import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { toHex } from '../crypto/hash.js';
import { generateSigner, type Signer } from '../crypto/p256.js';
import { signCertificate, type IdentityCertificate } from '../identity/identity-certificate.js';
import type { JsonValue } from '../ledger/json-value.js';
import { openTestApi, type TestApi } from '../testing/api-fixtures.js';
import { MAX_PAGE_SIZE } from './wire.js';

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function get(t: TestApi, path: string): Promise<Reply> {
  const res = await fetch(`${t.url}${path}`);
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

function errorOf(r: Reply): { code: string; message: string; path?: string } {
  return r.body.error as { code: string; message: string; path?: string };
}

interface RecordView {
  readonly key: string;
  readonly org: string;
  readonly function: string;
  readonly level: number;
  readonly status: string;
  readonly parent: string;
}

const CHAIN = 'trade';
const FAR = Date.now() + 365 * 86_400_000;

describe('identity API routes', () => {
  let t: TestApi;
  let seq = 0;
  const org1 = { parent: generateSigner(), child: generateSigner(), revoked: generateSigner() };
  const org2Key = generateSigner();

  const submit = async (org: string, fn: string, args: JsonValue, signer: Signer): Promise<void> => {
    const r = await t.net.gateway(org).submit({ chain: CHAIN, contract: 'identity', fn, args, endorsingOrgs: [org] }, signer);
    assert.equal(r.code, 'VALID');
  };
  const register = (org: string, parent: Signer, key: Signer, level: number, submitter: Signer = parent): Promise<void> => {
    const cert: IdentityCertificate = { v: 1, chain: CHAIN, org, key: key.publicKey, parent: parent.publicKey, function: 'finance', level, path: `m/7777'/0'/2'/${level}'/${seq++}'`, kind: 'member', notBefore: 0, notAfter: FAR };
    const { bytes, signature } = signCertificate(cert, parent);
    return submit(org, 'register', { certificate: toHex(bytes), signature: toHex(signature) }, submitter);
  };

  before(async () => {
    t = await openTestApi();
    const admin1 = t.net.identity('Org1', 'admin');
    await register('Org1', admin1, org1.parent, 5);
    await register('Org1', org1.parent, org1.child, 3);
    await register('Org1', admin1, org1.revoked, 2);
    await register('Org2', t.net.identity('Org2', 'admin'), org2Key, 4);
    await submit('Org1', 'revoke', { key: toHex(org1.revoked.publicKey), reason: 'compromise' }, admin1);
  });
  after(async () => {
    await t.close();
  });

  it('lists registered keys page by page, and of one org with ?org=', async () => {
    const first = await get(t, `/api/chains/${CHAIN}/identities?limit=2`);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const items = first.body.items as RecordView[];
    assert.equal(items.length, 2);
    assert.equal(typeof first.body.bookmark, 'string');
    const rest = await get(t, `/api/chains/${CHAIN}/identities?limit=2&bookmark=${encodeURIComponent(first.body.bookmark as string)}`);
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    const all = [...items, ...(rest.body.items as RecordView[])];
    assert.equal(rest.body.bookmark, undefined, 'four keys: the second page is the last');
    const expected = [org1.parent, org1.child, org1.revoked, org2Key].map((s) => toHex(s.publicKey));
    assert.deepEqual(all.map((i) => i.key).sort(), [...expected].sort());
    assert.equal(all.find((i) => i.key === toHex(org1.revoked.publicKey))?.status, 'compromised');

    const everything = await get(t, `/api/chains/${CHAIN}/identities`);
    assert.equal((everything.body.items as RecordView[]).length, 4);

    const ofOrg2 = await get(t, `/api/chains/${CHAIN}/identities?org=Org2`);
    assert.equal(ofOrg2.status, 200, JSON.stringify(ofOrg2.body));
    assert.deepEqual((ofOrg2.body.items as RecordView[]).map((i) => [i.key, i.org, i.level]), [[toHex(org2Key.publicKey), 'Org2', 4]]);
    const ofOrg1 = await get(t, `/api/chains/${CHAIN}/identities?org=Org1&limit=1`);
    assert.equal((ofOrg1.body.items as RecordView[]).length, 1);
    assert.equal(typeof ofOrg1.body.bookmark, 'string');
    const none = await get(t, `/api/chains/${CHAIN}/identities?org=Nobody`);
    assert.deepEqual(none.body, { items: [] });
  });

  it('shows one key with its standing and its certificate chain up to the configured admin', async () => {
    const child = await get(t, `/api/chains/${CHAIN}/identities/${toHex(org1.child.publicKey)}`);
    assert.equal(child.status, 200, JSON.stringify(child.body));
    assert.equal(child.body.standing, 'valid');
    const record = child.body.record as RecordView;
    assert.deepEqual([record.org, record.function, record.level, record.status, record.parent], ['Org1', 'finance', 3, 'active', toHex(org1.parent.publicKey)]);
    assert.equal(typeof (child.body.version as { block: number }).block, 'number');
    const links = child.body.chain as Record<string, unknown>[];
    assert.equal(links.length, 2);
    const [parentLink = {}, rootLink = {}] = links;
    assert.equal(parentLink.key, toHex(org1.parent.publicKey));
    assert.equal(typeof parentLink.registeredIn, 'number');
    const admin = t.net.identity('Org1', 'admin');
    assert.equal(rootLink.key, toHex(admin.publicKey));
    const configured = rootLink.configured as { org: string; role: string };
    assert.deepEqual([configured.org, configured.role], ['Org1', 'admin']);

    const revoked = await get(t, `/api/chains/${CHAIN}/identities/${toHex(org1.revoked.publicKey)}`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.standing, 'compromised');
    assert.equal((revoked.body.record as RecordView).status, 'compromised');
  });

  it('shows a configured member as valid, with its configuration entry and no certificate chain', async () => {
    const alice = toHex(t.net.identity('Org1', 'alice').publicKey);
    const r = await get(t, `/api/chains/${CHAIN}/identities/${alice}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.standing, 'valid');
    assert.deepEqual(r.body.chain, []);
    assert.equal((r.body.configured as { org: string; name: string }).name, 'alice');
  });

  it('answers 404 for a key nobody registered or configured, and for an unknown chain', async () => {
    const unknown = await get(t, `/api/chains/${CHAIN}/identities/${toHex(generateSigner().publicKey)}`);
    assert.equal(unknown.status, 404);
    assert.equal(errorOf(unknown).code, 'NOT_FOUND');
    assert.match(errorOf(unknown).message, /neither registered nor configured/);
    for (const path of ['/api/chains/nochain/identities', `/api/chains/nochain/identities/${toHex(org2Key.publicKey)}`]) {
      const r = await get(t, path);
      assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
    }
  });

  it('refuses bad parameters with 400, including a page size over the maximum', async () => {
    const upper = toHex(org2Key.publicKey).toUpperCase();
    for (const path of [
      `/api/chains/${CHAIN}/identities/xyz`,
      `/api/chains/${CHAIN}/identities/${upper}`,
      `/api/chains/${CHAIN}/identities/04${'a'.repeat(64)}`,
      `/api/chains/${CHAIN}/identities?org=no%20spaces`,
      `/api/chains/${CHAIN}/identities?limit=0`,
      `/api/chains/${CHAIN}/identities?limit=ten`,
      `/api/chains/${CHAIN}/identities?limit=${MAX_PAGE_SIZE + 1}`,
      `/api/chains/${CHAIN}/identities?bookmark=`,
      `/api/chains/${CHAIN}/identities?colour=red`,
      `/api/chains/${CHAIN}/identities?bookmark=not-a-bookmark`,
      `/api/chains/${CHAIN}/identities?org=Org1&bookmark=not-a-bookmark`,
    ]) {
      const r = await get(t, path);
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(errorOf(r).code, 'INVALID_ARGUMENT', path);
    }
    const max = await get(t, `/api/chains/${CHAIN}/identities?limit=${MAX_PAGE_SIZE}`);
    assert.equal(max.status, 200);
  });
});
