/**
 * Choosing the ports a locally launched process will listen on.
 *
 * A port is chosen at random from 10000 up to the first port of the system's ephemeral range,
 * checked free by binding it, and never handed out twice by one process. Asking the kernel for
 * port 0 instead gives a port of the ephemeral range, which every outgoing connection on the
 * machine draws its local port from too: between the choice and the child's bind, a client
 * connection (to etcd, to a peer) may take it, and the child fails with "address already in
 * use". Below the ephemeral range only listeners compete, and the random choice keeps two
 * processes choosing at the same time apart.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { SilkError } from '../errors.js';

/** The lowest port chosen. */
const LOWEST_PORT = 10_000;
/** Attempts before giving up. */
const ATTEMPTS = 50;

/** Ports this process has handed out already. */
const handedOut = new Set<number>();

/** The first port of the kernel's ephemeral range (32768 when it cannot be read). */
export function firstEphemeralPort(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isSafeInteger(first) && first > LOWEST_PORT + 1_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * Whether nothing listens on `host:port` now (it binds the port and releases it).
 * @example if (await portIsFree('127.0.0.1', 2379)) …
 */
export async function portIsFree(host: string, port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => { done(false); });
    server.listen(port, host, () => { server.close(() => { done(true); }); });
  });
}

/**
 * The first of `count` consecutive ports on `host` that are all free now and were not handed
 * out before by this process, chosen at random below the ephemeral range (see the module
 * comment).
 * @throws SilkError INVALID_ARGUMENT for a bad count; INTERNAL when none is found after 50 tries
 * @example const basePort = await findFreePortRange(11)
 */
export async function findFreePortRange(count: number, host = '127.0.0.1'): Promise<number> {
  if (!Number.isSafeInteger(count) || count < 1 || count > 1_000) throw new SilkError('INVALID_ARGUMENT', `count must be 1 to 1000; got ${String(count)}`);
  const span = Math.max(1, firstEphemeralPort() - LOWEST_PORT - count);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const base = LOWEST_PORT + Math.floor(Math.random() * span);
    let ok = true;
    for (let port = base; port < base + count && ok; port++) ok = !handedOut.has(port) && (await portIsFree(host, port));
    if (ok) {
      for (let port = base; port < base + count; port++) handedOut.add(port);
      return base;
    }
  }
  throw new SilkError('INTERNAL', `no ${count} consecutive free ports found on ${host}`);
}

/**
 * One free port on `host` (see {@link findFreePortRange}).
 * @example const port = await freePort('127.0.0.1')
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return findFreePortRange(1, host);
}
