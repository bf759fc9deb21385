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

/** The API port `silk start` serves on unless told otherwise. */
export const DEFAULT_API_PORT = 8080;

/**
 * The API port: `--port`, else `$SILK_PORT`, else `$PORT` (the variable hosting tools set), else
 * {@link DEFAULT_API_PORT}.
 * @throws UsageError naming the flag or variable when it is not a port number
 */
export function apiPort(values: { port?: string | undefined }): number {
  const settings: readonly (readonly [string, string | undefined])[] = [['--port', values.port], ['$SILK_PORT', process.env.SILK_PORT], ['$PORT', process.env.PORT]];
  for (const [from, text] of settings) {
    if (text !== undefined) return portOf(text, from);
  }
  return DEFAULT_API_PORT;
}

/** The API base URL: `--url`, else `$SILK_URL`, else this machine at the port `silk start` would serve on. */
export function apiUrl(values: { url?: string | undefined }): string {
  const given = values.url ?? process.env.SILK_URL;
  return given === undefined ? `http://127.0.0.1:${apiPort({})}` : given.replace(/\/+$/, '');
}

/**
 * A port number given as text.
 * @param from the flag or variable it came from, named in the error
 * @throws UsageError when it is not a whole number 0..65535
 */
export function portOf(text: string, from: string): number {
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`${from} must be a port number 0..65535, got '${text}'`);
  return port;
}

/** A silk command: parses its own arguments and returns the exit code. */
export type Command = (argv: string[]) => Promise<number>;
