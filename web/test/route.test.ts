import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { href, parseRoute, type Route } from '../src/route.js';

describe('UI routes', () => {
  before(() => {
    // A page served at a Digital Link path names the item with its own origin.
    (globalThis as { window?: unknown }).window = { location: { origin: 'https://id.alliance.example' } };
  });

  it('opens the verify page at a Digital Link path of an item or a lot, and nowhere else', () => {
    assert.deepEqual(parseRoute('/01/06901234000016/21/7', ''), { page: 'verify', epc: 'https://id.alliance.example/01/06901234000016/21/7' });
    assert.deepEqual(parseRoute('/01/06901234000016/10/YW2611A/21/7/', '#/'), { page: 'verify', epc: 'https://id.alliance.example/01/06901234000016/10/YW2611A/21/7/' });
    assert.deepEqual(parseRoute('/01/0690/21/7', ''), { page: 'verify', epc: undefined }, 'a GTIN is 8 to 14 digits');
    assert.deepEqual(parseRoute('/', ''), { page: 'verify', epc: undefined });
  });

  it('reads every page from the hash, and gives back the same hash for it', () => {
    const routes: Route[] = [
      { page: 'verify', epc: 'urn:epc:id:sgtin:6901234.000001.7' },
      { page: 'explorer' },
      { page: 'dashboard' },
      { page: 'chain', chain: 'product', bookmark: undefined },
      { page: 'chain', chain: 'product', bookmark: 'b/=+' },
      { page: 'block', chain: 'product', number: 12 },
      { page: 'transaction', chain: 'trade', txId: 'ab'.repeat(32) },
      { page: 'keys', chain: 'trade', bookmark: undefined },
      { page: 'key', chain: 'trade', key: `02${'cd'.repeat(32)}` },
    ];
    for (const r of routes) assert.deepEqual(parseRoute('/', href(r)), r, href(r));
  });

  it('names no page for an unknown hash, a block that is not a number or a broken escape', () => {
    for (const hash of ['#/nowhere', '#/chains/product/blocks/seven', '#/chains/product/tx', '#/chains/product/blocks/1/2', '#/chains/%E0%A4%A']) {
      assert.equal(parseRoute('/', hash).page, 'not-found', hash);
    }
  });
});
