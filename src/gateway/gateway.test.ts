import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EndorseError, isSilkError } from '../errors.js';
import { decodeBlock } from '../ledger/block.js';
import { decodeTransaction } from '../ledger/transaction.js';
import type { Peer } from '../peer/peer.js';
import { openTestNetwork, waitUntil } from '../testing/fixtures.js';
import { createGateway, type EndorsingPeer, type SubmitResult } from './gateway.js';

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

describe('gateway', () => {
  let net: TestNetwork;
  before(async () => {
    net = await openTestNetwork();
  });
  after(async () => {
    await net.close();
    net.cleanupDir();
  });

  describe('endorsers that disagree for a moment', () => {
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

  describe('a resubmitted proposal that another node committed meanwhile', () => {
    it('is answered DUPLICATE_TXID with its block when the block lands between its admission and its simulation, not simulated again', async () => {
      const peer1 = net.peer('peer0.org1');
      const alice = net.identity('Org1', 'alice');
      const signed = net.gateway('Org1').propose({ chain: 'trade', contract: 'basic', fn: 'createAsset', args: { id: 'late-1', owner: 'Org1', colour: 'red', size: 1, appraisedValue: 10 } }, alice);
      // Another org's node orders and commits it (its answer to the client was lost, say).
      const first = await net.gateway('Org2').submitSigned(signed);
      // Org2's gateway answered once its own peer committed; Org1's peer commits the same block on its own.
      await waitUntil(() => peer1.height('trade') > first.blockNumber, 10_000, "Org1's peer to commit the block");
      // This gateway's peer had not committed that block when the resubmit was admitted, and has when it simulates.
      let behind = true;
      const commitPeer: Peer = {
        ...peer1,
        height: (chain) => peer1.height(chain) - (behind ? 1 : 0),
        transactionStatus: (chain, txId) => {
          if (!behind) return peer1.transactionStatus(chain, txId);
          behind = false;
          return undefined;
        },
      };
      const gateway = createGateway({ peers: [peer1], commitPeer, orderer: net.orderer, commitTimeoutMs: 10_000 });
      try {
        await assert.rejects(gateway.submitSigned(signed), (e: unknown) => isSilkError(e, 'DUPLICATE_TXID') && e.details.block === first.blockNumber);
        assert.equal(behind, false, 'the admission looked before the block landed');
      } finally {
        gateway.close();
      }
    });
  });

  describe("the endorsers a transaction's key-level policies ask for", () => {
    const submit = (fn: string, args: Record<string, string | number>, endorsingOrgs?: string[]): Promise<SubmitResult> =>
      net.gateway('Org1').submit({ chain: 'trade', contract: 'basic', fn, args, ...(endorsingOrgs === undefined ? {} : { endorsingOrgs }) }, net.identity('Org1', 'alice'));
    /** The orgs of a committed transaction's endorsers, sorted. */
    const endorsingOrgsOf = (r: SubmitResult): string[] => {
      const peer = net.peer('peer0.org1');
      const envelope = decodeBlock(peer.blockBytes('trade', r.blockNumber) as Uint8Array).txs[r.txIndex] as Uint8Array;
      return decodeTransaction(envelope).envelope.endorsements.map((e) => peer.identity('trade', e.endorser)?.org ?? '?').sort();
    };
    const asset = async (id: string, policy: string): Promise<void> => {
      assert.equal((await submit('createAsset', { id, owner: 'Org1', colour: 'red', size: 1, appraisedValue: 10 })).code, 'VALID');
      assert.equal((await submit('protectAsset', { id, policy })).code, 'VALID');
    };

    it('endorses with the peers a written key\'s policy names, whichever peer the contract policy picked first, and no other', async () => {
      await asset('guarded-by-org2', "OR('Org2.peer')");
      await asset('guarded-by-two', "AND('Org1.peer', 'Org3.peer')");
      // The contract policy is met by any one peer; the rotation starts at each of the three in turn.
      for (let i = 0; i < 3; i++) {
        const one = await submit('transferAsset', { id: 'guarded-by-org2', newOwner: `owner-${i}` });
        assert.equal(one.code, 'VALID');
        assert.deepEqual(endorsingOrgsOf(one), ['Org2']);
        const two = await submit('transferAsset', { id: 'guarded-by-two', newOwner: `owner-${i}` });
        assert.equal(two.code, 'VALID');
        assert.deepEqual(endorsingOrgsOf(two), ['Org1', 'Org3']);
      }
      // Keys without a key-level policy still take one endorsement.
      const plain = await submit('put', { key: 'plain', value: 'v' });
      assert.equal(endorsingOrgsOf(plain).length, 1);
    });

    it('refuses before ordering a write whose policy no peer can meet, naming the key and the policy', async () => {
      await asset('needs-cosigner', "AND('Org1.peer', 'Org1.finance@3')");
      const height = net.peer('peer0.org1').height('trade');
      await assert.rejects(submit('transferAsset', { id: 'needs-cosigner', newOwner: 'mallory' }), (e: unknown) => {
        assert.ok(e instanceof EndorseError);
        assert.equal(e.code, 'ENDORSEMENT_POLICY_FAILURE');
        assert.match(e.message, /key asset:needs-cosigner of basic, whose key-level policy is AND\('Org1\.peer', 'Org1\.finance@3'\)/);
        assert.match(e.message, /co-signature/);
        return true;
      });
      assert.equal(net.peer('peer0.org1').height('trade'), height, 'nothing was ordered');
    });

    it('orders as asked when the caller names the endorsing orgs: validation then refuses endorsements that miss a key policy', async () => {
      await asset('named-orgs', "OR('Org2.peer')");
      const r = await submit('transferAsset', { id: 'named-orgs', newOwner: 'mallory' }, ['Org3']);
      assert.equal(r.code, 'ENDORSEMENT_POLICY_FAILURE');
      assert.deepEqual(endorsingOrgsOf(r), ['Org3']);
      assert.equal(net.peer('peer0.org1').transactionStatus('trade', r.txId)?.code, 'ENDORSEMENT_POLICY_FAILURE');
    });
  });
});
