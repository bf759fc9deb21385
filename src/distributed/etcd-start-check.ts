/**
 * When a restarted etcd member is past its initial corruption check.
 *
 * A member that starts on data it already has (`--experimental-initial-corrupt-check`) first asks
 * every peer for a hash of its data (`/members/hashkv`), and serves nothing, its peer port
 * included, until that check is over. Two members started at the same moment ask each other
 * while neither serves, and both wait out etcd's request timeout (5 s + 2 election timeouts) before
 * they serve: after a lost quorum the cluster came back 7.4 s late. Started one after the other,
 * each past its check before the next starts, the first one's question to the stopped member is
 * refused at once and the second one's is answered by the first: both checks take milliseconds.
 * etcd-cluster.ts starts its members in that order; this module tells when a member got there,
 * from the member's own log.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

/** What etcd 3.4 logs once the check found the member's data equal to its peers' (then it serves). */
export const CHECK_PASSED_MESSAGE = 'initial corruption checking passed';
/** How often the log is read while waiting. */
const POLL_MS = 25;
/** Most log bytes read per look: a member logs a few kilobytes while it starts. */
const MAX_READ_BYTES = 1024 * 1024;

/** How a wait for a member's check ended. */
export type StartCheckOutcome = 'passed' | 'exited' | 'timeout';

/** The size of a log file now (0 when it does not exist yet): where a start's own lines begin. */
export function logOffset(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The bytes a log gained from `from` on (at most {@link MAX_READ_BYTES} of them), and where they end. */
function readFrom(file: string, from: number): { text: string; end: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { text: '', end: from };
  }
  try {
    const buffer = Buffer.alloc(Math.max(0, Math.min(MAX_READ_BYTES, fstatSync(fd).size - from)));
    const read = readSync(fd, buffer, 0, buffer.length, from);
    return { text: buffer.toString('utf8', 0, read), end: from + read };
  } finally {
    closeSync(fd);
  }
}

/**
 * Waits until a member started on existing data logged that its initial corruption check passed,
 * it exited (a check that finds the data diverged stops the member), or `timeoutMs` passed.
 * @param options.logFile the member's log; `from` its size before the start ({@link logOffset})
 * @param options.running whether the started process is still running
 * @example await waitPastStartCheck({ logFile, from, running: () => child.exitCode === null, timeoutMs: 8_400 })
 */
export async function waitPastStartCheck(options: { readonly logFile: string; readonly from: number; readonly running: () => boolean; readonly timeoutMs: number }): Promise<StartCheckOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  let offset = options.from;
  // Each look reads only what the log gained; the tail of the last look is kept, so a message
  // written across two looks is still found.
  let tail = '';
  for (;;) {
    const { text, end } = readFrom(options.logFile, offset);
    offset = end;
    const seen = tail + text;
    if (seen.includes(CHECK_PASSED_MESSAGE)) return 'passed';
    tail = seen.slice(-CHECK_PASSED_MESSAGE.length);
    if (!options.running()) return 'exited';
    if (Date.now() >= deadline) return 'timeout';
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
