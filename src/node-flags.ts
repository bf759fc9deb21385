/**
 * The Node.js flags every long-running Silkledger process runs with: `npm start` and `npm run
 * bench` (their scripts in package.json), and each process the network launcher and the HTTP
 * bench start. A process an operator starts on another host passes them itself: the usage lines
 * of peer-main, orderer-main and etcd-host-main show them. The `silk` command's shebang stays
 * `#!/usr/bin/env node` (busybox's `env` has no `-S` to pass flags): `silk start` and the bench
 * say when they run without them, and `NODE_OPTIONS` supplies them.
 *
 * `--max-semi-space-size=64`: V8's young generation with 64 MB semi-spaces instead of 16. A node
 * keeps every transaction in flight alive for 100–300 ms (the proposal, the endorsement, the
 * envelope, the block it lands in, its receipt), which is longer than a 16 MB semi-space lasts at
 * a few thousand transactions a second: at each scavenge the survivors are copied, and most
 * are copied again into the old generation, which then needs a mark-compact every few seconds.
 * With 64 MB the young generation is collected a quarter as often, and most of what was in
 * flight at one scavenge is garbage by the next. Embedded `rmw` bench, fixed 3,000 tx/s for 40 s,
 * three A/B pairs: 2,649.5, 2,751.4 and 2,898.6 tx/s committed with the flag against 2,554.5,
 * 2,614.5 and 2,660.3 without (+4 to +9 %); 128 MB did no better than 64 (2,841.2). V8 reads the
 * flag when it sets up the heap, so it has to be on the command line (or in `NODE_OPTIONS`):
 * `v8.setFlagsFromString` at run time does not resize the young generation.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/**
 * The flags of {@link NODE_FLAGS} a Node.js process was started without.
 * @param execArgv the process's Node.js options (default: this process's)
 * @param nodeOptions the `NODE_OPTIONS` it saw (default: this process's)
 * @example if (missingNodeFlags().length > 0) console.error('started without', missingNodeFlags())
 */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env['NODE_OPTIONS'] ?? ''): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)]);
  return NODE_FLAGS.filter((f) => !given.has(f));
}
