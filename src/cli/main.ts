#!/usr/bin/env node
/**
 * `silk`: the Silkledger command line.
 * Exit codes: 0 success, 1 the ledger failed verification, 2 bad usage, 3 any other failure.
 */
import { isSilkError } from '../errors.js';
import { EXIT, UsageError, type Command } from './cli-support.js';
import { startCommand } from './commands/start.js';
import { verifyCommand } from './commands/verify.js';

const HELP = `silk — Silkledger command line

Usage:
  silk start [--data DIR] [--port N] [--host H]
                                          run the demo alliance and its API (created and seeded on first run)
  silk verify [--data DIR] [--peer NAME] [--chain NAME] [--json]
                                          re-verify every block, signature, policy, commit hash and
                                          the world state of the peers' ledgers
  silk --help

Options:
  --data DIR   data folder (default ./data, or $SILK_DATA)
  --json       machine-readable output

Exit codes: 0 ok, 1 ledger failed verification, 2 bad usage, 3 other failure.`;

/** Every command by name. */
const COMMANDS: Readonly<Record<string, Command>> = {
  start: startCommand,
  verify: verifyCommand,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (run === undefined) throw new UsageError(`unknown command '${command}'`);
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || (e instanceof TypeError && (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true)) {
      console.error(`silk: ${e.message}\n\n${HELP}`);
      process.exitCode = EXIT.usage;
    } else if (isSilkError(e)) {
      console.error(`silk: ${e.code}: ${e.message}`);
      process.exitCode = EXIT.failure;
    } else {
      console.error(`silk: ${(e as Error).stack ?? String(e)}`);
      process.exitCode = EXIT.failure;
    }
  },
);
