/**
 * Child process of the crash test (`src/peer/crash-recovery.test.ts`): opens the embedded
 * network in the data folder given as argv[2] and runs a stream of `rmw`/`put` transactions from
 * several concurrent clients until it is killed (by a `SILK_KILL_POINT`, or by the parent with
 * SIGKILL) or until the safety deadline passes, when it closes cleanly and prints `done`.
 *
 * stdout protocol, one line each (pipes are written synchronously on Linux, so a printed line
 * survives a SIGKILL that comes right after it):
 *   `ready <height>`                   the network is open; `<height>` is the orderer's height
 *   `ack <txId> <block> <code>`        the gateway acknowledged a commit with this code
 *   `done`                             the deadline passed and the network closed cleanly
 *
 * Usage: node dist/testing/crash-child.js DATA_DIR [clients=8] [deadlineMs=20000] [checkpointEveryMs=20]
 */
import { BasicContract } from '../contracts/basic/basic-contract.js';
import { openEmbeddedNetwork, type NetworkSpec } from '../network/embedded-network.js';
import { THREE_ORG_SPEC } from './fixtures.js';

/** THREE_ORG_SPEC with small, frequent blocks (used only if the folder holds no network yet). */
const CRASH_SPEC: NetworkSpec = {
  ...THREE_ORG_SPEC,
  chains: THREE_ORG_SPEC.chains.map((c) => ({ ...c, batch: { maxTxs: 20, timeoutMs: 5 } })),
};

/** Number of distinct keys the load writes. */
const CRASH_KEYS = 200;

const SUBMITTERS: readonly { org: string; user: string }[] = [
  { org: 'Org1', user: 'alice' },
  { org: 'Org2', user: 'bob' },
  { org: 'Org3', user: 'admin' },
];

function write(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(argv: readonly string[]): Promise<void> {
  const dataDir = argv[0];
  if (dataDir === undefined) throw new Error('usage: crash-child DATA_DIR [clients] [deadlineMs] [checkpointEveryMs]');
  const clients = Number(argv[1] ?? '8');
  const deadline = Date.now() + Number(argv[2] ?? '20000');
  const checkpointEveryMs = Number(argv[3] ?? '20');

  const net = await openEmbeddedNetwork({ dataDir, spec: CRASH_SPEC, contracts: [new BasicContract()], parallelVerify: false, commitTimeoutMs: 10_000 });
  write(`ready ${net.orderer.height('trade')}`);

  let stopping = false;
  let turn = 0;
  const checkpointTimer = setInterval(() => {
    if (stopping) return;
    const peer = net.peers[turn++ % net.peers.length];
    peer?.store('trade').checkpoint();
  }, checkpointEveryMs);

  let seq = 0;
  const client = async (id: number): Promise<void> => {
    while (!stopping && Date.now() < deadline) {
      const who = SUBMITTERS[(id + seq) % SUBMITTERS.length] as { org: string; user: string };
      const key = `k${Math.floor(Math.random() * CRASH_KEYS)}`;
      const fn = Math.random() < 0.6 ? 'rmw' : 'put';
      const value = `c${id}-${seq++}-${Date.now()}`;
      try {
        const r = await net.gateway(who.org).submit({ chain: 'trade', contract: 'basic', fn, args: { key, value } }, net.identity(who.org, who.user));
        write(`ack ${r.txId} ${r.blockNumber} ${r.code}`);
      } catch (e) {
        // MVCC conflicts surface as codes, not throws; anything thrown here is unexpected but not fatal.
        process.stderr.write(`client ${id}: ${(e as Error).message}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  stopping = true;
  clearInterval(checkpointTimer);
  await net.close();
  write('done');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`crash-child: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 3;
});
