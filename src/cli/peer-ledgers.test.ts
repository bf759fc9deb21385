import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures.js';
import { UsageError } from './cli-support.js';
import { ledgerFiles, peerLedgers } from './peer-ledgers.js';

describe('the ledgers of a data folder', () => {
  it("finds an embedded node's and a distributed network's peer ledgers, filtered by peer and chain; backup's list holds the embedded ones", () => {
    const dir = tempDir('silk-peer-ledgers-');
    try {
      const touch = (...parts: string[]): void => {
        mkdirSync(join(dir.path, ...parts.slice(0, -1)), { recursive: true });
        writeFileSync(join(dir.path, ...parts), '');
      };
      touch('peers', 'peer0.org1', 'trade.sqlite');
      touch('peers', 'peer0.org1', 'LOCK');
      touch('peers', 'peer0.org2', 'ledger', 'trade.sqlite');
      touch('peers', 'peer0.org2', 'ledger', 'anchor.sqlite');
      touch('peers', 'peer0.org2', 'peer.log');
      touch('peers', 'notes.txt');
      const all = peerLedgers(dir.path);
      assert.deepEqual(all.map((l) => [l.peer, l.chain, l.file.slice(dir.path.length + 1), l.peerDir.slice(dir.path.length + 1)]), [
        ['peer0.org1', 'trade', 'peers/peer0.org1/trade.sqlite', 'peers/peer0.org1'],
        ['peer0.org2', 'anchor', 'peers/peer0.org2/ledger/anchor.sqlite', 'peers/peer0.org2'],
        ['peer0.org2', 'trade', 'peers/peer0.org2/ledger/trade.sqlite', 'peers/peer0.org2'],
      ]);
      assert.deepEqual(peerLedgers(dir.path, undefined, 'trade').map((l) => l.peer), ['peer0.org1', 'peer0.org2']);
      assert.deepEqual(peerLedgers(dir.path, 'peer0.org2', 'anchor').map((l) => l.chain), ['anchor']);
      assert.throws(() => peerLedgers(dir.path, 'peer0.org3'), (e) => e instanceof UsageError && /no ledger matches/.test(e.message));
      assert.throws(() => peerLedgers(join(dir.path, 'peers')), (e) => e instanceof UsageError && /no peers under/.test(e.message));
      // What backup and restore handle: an embedded node's ledgers only.
      assert.deepEqual(ledgerFiles(dir.path).map((f) => f.slice(dir.path.length + 1)), ['peers/peer0.org1/trade.sqlite']);
      assert.throws(() => ledgerFiles(dir.path, 'peer0.org2'), (e) => e instanceof UsageError && /no ledger of a silk start data folder matches/.test(e.message));
    } finally {
      dir.cleanup();
    }
  });
});
