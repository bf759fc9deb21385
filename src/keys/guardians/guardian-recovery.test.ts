/** Why the commitments and the master-key check exist: the Shamir library never complains. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combine, split } from 'shamir-secret-sharing';
import { sha256, toHex } from '../../crypto/hash.js';

describe('shamir-secret-sharing without our checks', () => {
  it('returns wrong bytes, without an error, from k−1 shares or an altered share; the SHA-256 commitment tells', async () => {
    const secret = crypto.getRandomValues(new Uint8Array(64));
    const shares = await split(secret, 5, 3);
    const [a, b, c] = shares as [Uint8Array, Uint8Array, Uint8Array];
    assert.deepEqual(await combine([a, b, c]), secret);
    const fromTwo = await combine([a, b]);
    assert.equal(fromTwo.length, 64);
    assert.notDeepEqual(fromTwo, secret);
    const altered = c.slice();
    altered[0] = (altered[0] ?? 0) ^ 1;
    const fromAltered = await combine([a, b, altered]);
    assert.notDeepEqual(fromAltered, secret);
    assert.notEqual(toHex(sha256(altered)), toHex(sha256(c)));
  });
});
