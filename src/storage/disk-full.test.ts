/**
 * A full disk, for real: the network and its API run on a small tmpfs that a filler file
 * nearly fills; writes go on until the disk is full. The node must refuse writes with a clear
 * error and keep serving, resume by itself once space is freed (every peer, without a
 * restart), and leave ledgers that verify and agree after reopening.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { embeddedApiBackend } from '../api/backend.js';
import { createApiServer } from '../api/server.js';
import { toBase64 } from '../api/wire.js';
import { createProposal } from '../ledger/proposal.js';
import type { EmbeddedNetwork } from '../network/embedded-network.js';
import { verifyLedgerFile } from '../peer/ledger-verifier.js';
import { openTestNetwork, waitUntil } from '../testing/fixtures.js';
import { fillFileSystem, withSmallFileSystem } from '../testing/full-disk.js';

const DISK_MB = 16;
/** Space the filler leaves: a few blocks' worth for the orderer and three peers. */
const LEFT_FREE_BYTES = 1536 * 1024;
const VALUE = 'x'.repeat(32 * 1024);
/** A submit not answered this soon is waiting for a commit the full disk holds back. */
const STALL_MS = 2000;

interface Outcome {
  readonly status: number;
  readonly code?: string;
  readonly message?: string;
  readonly txId?: string;
}

/** The promise's value if it settles within `ms`, else undefined (it keeps running). */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => { resolve(undefined); }, ms); });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const allCaughtUp = (net: EmbeddedNetwork): boolean => net.peers.every((p) => p.height('trade') === net.orderer.height('trade'));

describe('a full disk', () => {
  it('refuses writes clearly without crashing, resumes on every peer once space is freed, and leaves ledgers that verify and agree', async () => {
    await withSmallFileSystem(DISK_MB, async (mnt) => {
      const data = join(mnt, 'data');
      const filler = join(mnt, 'filler');
      const committed: string[] = [];
      let net = await openTestNetwork({ dataDir: data });
      const api = await createApiServer({ backend: embeddedApiBackend(net, { org: 'Org1' }), rateLimitPerMinute: 0 });
      try {
        const url = await api.listen({ port: 0 });
        let seq = 0;
        const submit = async (): Promise<Outcome> => {
          const version = net.peer('peer0.org1').config('trade').contracts.basic?.version ?? '';
          const p = createProposal({ chain: 'trade', contract: 'basic', version, fn: 'put', args: { key: `k${seq++}`, value: VALUE } }, net.identity('Org1', 'alice'));
          const res = await fetch(`${url}/api/chains/trade/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ proposal: toBase64(p.bytes), signature: toBase64(p.signature) }) });
          const body = (await res.json()) as { txId?: string; error?: { code: string; message: string } };
          if (res.status === 200 && body.txId !== undefined) committed.push(body.txId);
          return { status: res.status, ...(body.error ?? {}), ...(body.txId === undefined ? {} : { txId: body.txId }) };
        };

        fillFileSystem(filler, mnt, LEFT_FREE_BYTES, 64 * 1024);
        const refusals: Outcome[] = [];
        const stalled: Promise<Outcome>[] = [];
        for (let i = 0; i < 60 && refusals.length < 3; i++) {
          const answer = submit();
          const first = await settledWithin(answer, STALL_MS);
          if (first === undefined) stalled.push(answer);
          else if (first.status !== 200) refusals.push(first);
        }
        assert.ok(refusals.length > 0, 'the disk filled up and writes were refused');
        for (const r of refusals) {
          // Whichever store hit the full disk first (the ordering log or a peer's ledger), the
          // client learns it as STORAGE_FULL.
          assert.equal(r.status, 507, `a refusal says the disk is full: ${JSON.stringify(r)}`);
          assert.equal(r.code, 'STORAGE_FULL', JSON.stringify(r));
        }
        const health = await fetch(`${url}/api/health`);
        assert.equal(health.status, 200, 'the node keeps serving while its disk is full');

        rmSync(filler);
        for (const answer of stalled) assert.equal((await answer).status, 200, 'a submit waiting on the full disk commits once space is freed');
        for (let i = 0; i < 3; i++) {
          const r = await submit();
          assert.equal(r.status, 200, `writes succeed again: ${JSON.stringify(r)}`);
        }
        // Every peer, including one that could not store a block, resumes without a restart.
        await waitUntil(() => allCaughtUp(net), 10_000, 'every peer to reach the orderer height after space was freed');
      } finally {
        await api.close();
        await net.close();
      }

      net = await openTestNetwork({ dataDir: data });
      try {
        await waitUntil(() => allCaughtUp(net), 10_000, 'every peer to catch up after reopening');
        const height = net.orderer.height('trade');
        assert.equal(new Set(net.peers.map((p) => p.committedBlock('trade', height - 1)?.commitHash)).size, 1, 'peers agree on the last commit hash');
        for (const txId of committed) for (const p of net.peers) assert.equal(p.transactionStatus('trade', txId)?.code, 'VALID', `${txId} is on ${p.name}`);
      } finally {
        await net.close();
      }
      for (const p of net.peers) {
        const v = await verifyLedgerFile(join(data, 'peers', p.name, 'trade.sqlite'));
        assert.ok(v.ok, `${p.name}: ${JSON.stringify(v.problems)}`);
      }
    });
  });
});
