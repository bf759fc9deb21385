/** What every `silk` command shares: usage errors, the data folder, the API address, output. */
import { resolve } from 'node:path';

/** A command-line mistake: exit code 2 with the help text. */
export class UsageError extends Error {}

/**
 * Exit codes of `silk`: 0 success; 1 a ledger or receipt failed verification; 2 bad usage
 * (unknown flag, bad JSON, unreadable key file); 3 any other failure (also: node not ready);
 * 4 the node refused the request, or the transaction is invalid or not found; 5 the node
 * could not be reached.
 */
export const EXIT = { ok: 0, verifyFailed: 1, usage: 2, failure: 3, refused: 4, unreachable: 5 } as const;

/** The data folder: `--data`, else `$SILK_DATA`, else `./data`. */
export function dataDir(values: { data?: string | undefined }): string {
  return resolve(values.data ?? process.env.SILK_DATA ?? './data');
}

/** The API base URL: `--url`, else `$SILK_URL`, else the local default. */
export function apiUrl(values: { url?: string | undefined }): string {
  return (values.url ?? process.env.SILK_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
}

/** A port number from a flag or the environment. @throws UsageError */
export function portOf(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535, got '${text}'`);
  return port;
}

/** A silk command: parses its own arguments and returns the exit code. */
export type Command = (argv: string[]) => Promise<number>;
