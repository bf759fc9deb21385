import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Peer } from '../peer/peer.js';
import { openTestNetwork } from '../testing/fixtures.js';
import { createGateway, type EndorsingPeer } from './gateway.js';

type TestNetwork = Awaited<ReturnType<typeof openTestNetwork>>;

/**
 * A peer of this process that falls one block behind at the moment it is asked to endorse (as
 * when the other endorser committed a block an instant earlier) and catches up `lagMs` later:
 * while behind it reports the lower height and returns a result that differs from the others'.
 */
function laggingAtEndorsement(peer: Peer, lagMs: number): EndorsingPeer & { endorsements: number } {
  let lagUntil = 0;
  const behind = (): boolean => Date.now() < lagUntil;
  const wrapper = {
    name: peer.name,
    org: peer.org,
    publicKey: peer.publicKey,
    endorsements: 0,
    chains: () => peer.chains(),
    height: (chain: string) => peer.height(chain) - (behind() ? 1 : 0),
    async waitForHeight(chain: string, height: number, timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (wrapper.height(chain) < height && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    endorse(signed: Parameters<Peer['endorse']>[0]) {
      wrapper.endorsements++;
      if (wrapper.endorsements === 1) lagUntil = Date.now() + lagMs;
      const real = peer.endorse(signed);
      if (!behind()) return real;
      const stale = new Uint8Array(real.result.length + 1);
      stale.set(real.result);
      return { ...real, result: stale };
    },
  };
  return wrapper;
}

describe('gateway: endorsers that disagree for a moment', () => {
  let net: TestNetwork;
  before(async () => {
    net = await openTestNetwork();
  });
  after(async () => {
    await net.close();
    net.cleanupDir();
  });

  it('waits for the endorser that fell behind to catch up, then commits with both endorsements', async () => {
    const [peer1, peer2] = [net.peer('peer0.org1'), net.peer('peer0.org2')];
    // Longer than the few milliseconds of the gateway's fixed pauses between attempts.
    const lagging = laggingAtEndorsement(peer2, 150);
    const gateway = createGateway({ peers: [peer1, lagging], commitPeer: peer1, orderer: net.orderer, commitTimeoutMs: 10_000 });
    try {
      const r = await gateway.submit({ chain: 'trade', contract: 'basic', fn: 'put', args: { key: 'k', value: 'v' }, endorsingOrgs: ['Org1', 'Org2'] }, net.identity('Org1', 'alice'));
      assert.equal(r.code, 'VALID');
      assert.ok(lagging.endorsements >= 2, 'the first, differing endorsement was asked again');
    } finally {
      gateway.close();
    }
  });
});
