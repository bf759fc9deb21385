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
 * Where the API port was given: `--port`, else `$SILK_PORT`, else `$PORT` (the variable hosting
 * tools set), else none. @returns the text and its name, for the error that names it
 */
export function apiPortSetting(values: { port?: string | undefined }): { text: string; from: string } | undefined {
  if (values.port !== undefined) return { text: values.port, from: '--port' };
  for (const name of ['SILK_PORT', 'PORT']) {
    const text = process.env[name];
    if (text !== undefined) return { text, from: `$${name}` };
  }
  return undefined;
}

/** The API base URL: `--url`, else `$SILK_URL`, else this machine at the port `silk start` would serve on. */
export function apiUrl(values: { url?: string | undefined }): string {
  const given = values.url ?? process.env.SILK_URL;
  if (given !== undefined) return given.replace(/\/+$/, '');
  const setting = apiPortSetting({});
  const port = setting === undefined ? DEFAULT_API_PORT : portOf(setting.text, DEFAULT_API_PORT, setting.from);
  return `http://127.0.0.1:${port}`;
}

/**
 * A port number from a flag or the environment.
 * @param from the flag or variable it came from, named in the error
 * @throws UsageError when it is not a whole number 0..65535
 */
export function portOf(text: string | undefined, fallback: number, from = '--port'): number {
  if (text === undefined) return fallback;
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${from} must be a port number 0..65535, got '${text}'`);
  return port;
}

/** A silk command: parses its own arguments and returns the exit code. */
export type Command = (argv: string[]) => Promise<number>;
