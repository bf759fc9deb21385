#!/usr/bin/env node
/**
 * `silk`: the Silkledger command line.
 * Exit codes (EXIT in cli-support.ts): 0 success, 1 a ledger or receipt failed verification, 2 bad usage,
 * 3 any other failure, 4 the node refused the request, 5 the node could not be reached.
 */
import { isSilkError } from '../errors.js';
import { EXIT, UsageError, type Command } from './cli-support.js';
import { backupCommand } from './commands/backup.js';
import { auditCommand } from './commands/audit.js';
import { blockCommand } from './commands/block.js';
import { compactCommand } from './commands/compact.js';
import { epcisCommand } from './commands/epcis.js';
import { guardiansCommand } from './commands/guardians.js';
import { identityCommand } from './commands/identity.js';
import { keysCommand } from './commands/keys.js';
import { networkCommand } from './commands/network.js';
import { productsCommand } from './commands/products.js';
import { queryCommand } from './commands/query.js';
import { recallCommand } from './commands/recall.js';
import { restoreCommand } from './commands/restore.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { submitCommand } from './commands/submit.js';
import { cosignCommand, endorseCommand, submitEnvelopeCommand } from './commands/cosign.js';
import { txCommand } from './commands/tx.js';
import { verifyCommand } from './commands/verify.js';

const HELP = `silk — Silkledger command line

Usage:
  silk start [--data DIR] [--port N] [--host H]
                                          run the demo alliance and its API (created and seeded on first run)
  silk verify [--data DIR] [--peer NAME] [--chain NAME] [--scratch DIR] [--json]
                                          re-verify every block, signature, policy, commit hash and
                                          the world state of the peers' ledgers, of a data folder or
                                          a distributed network's folder (the replay's scratch file
                                          goes to --scratch, default TMPDIR)
  silk backup --out DIR [--data DIR] [--peer NAME] [--chain NAME] [--json]
                                          copy peers' ledgers while the network runs, verify each
                                          copy and describe them in DIR/manifest.json
  silk restore --from DIR [--data DIR] [--peer NAME] [--chain NAME] [--json]
                                          put backed-up ledgers back while the network is stopped;
                                          peers catch up from the ordering service on the next start
  silk compact [--data DIR] [--peer NAME] [--chain NAME] [--json]
                                          while the node (or network) is stopped: bring the peers'
                                          ledgers to this release's schema and give their free
                                          pages back
  silk network up [--dir DIR] [--orgs N|--demo] [--base-port P] [--json]
                                          run a distributed network on this machine: 3 etcd members,
                                          2 orderers, one peer process per org (DIR/network.yaml)
  silk network down [--dir DIR] [--json]  stop every process of the network and free its ports
  silk network status [--dir DIR] [--json]
                                          each process's pid, liveness, readiness and heights; each
                                          chain's leader; etcd's health
  silk network etcd-snapshot FILE [--dir DIR] [--json]
                                          back up the ordering log (an etcd snapshot, read back)
  silk network etcd add | remove NAME [--force] [--dir DIR] [--json]
  silk network orderer add [--org ORG] | remove NAME [--dir DIR] [--json]
                                          add or remove an etcd member or an orderer of the running
                                          network (docs/operations.md, Changing the membership)
  silk status [--url URL] [--json]        is the node up and caught up; its chains and their heights
  silk audit CHAIN [--genesis HASH] [--to N] [--scratch DIR] [--url URL] [--json]
                                          replay the node's chain on this machine from the genesis
                                          block you trust, and check each block's validation codes
                                          and commit hash against what its peer signed
  silk block CHAIN [N|latest] [--url URL] [--json]
                                          one block and the outcome of each of its transactions
  silk tx CHAIN TXID [--url URL] [--json] one transaction: what it read and wrote, its receipt checked
  silk query CHAIN CONTRACT FN [ARGS-JSON] --key PEM [--url URL] [--json]
                                          run a query function, signed with your key; nothing is written
  silk query CHAIN CONTRACT --state KEY | --range START [END] | --history KEY [--order asc|desc]
             [--limit N] [--bookmark B] [--url URL] [--json]
                                          read committed state: one key, a key range, a key's history
  silk submit CHAIN CONTRACT FN ARGS-JSON --key PEM [--endorsing-orgs A,B] [--url URL] [--json]
                                          sign a transaction with your key, commit it, show how it ended
  silk endorse CHAIN CONTRACT FN ARGS-JSON --key PEM --out ENVELOPE.json [--endorsing-orgs A,B] [--url URL] [--json]
                                          sign and endorse a transaction that needs co-signers; write its envelope
  silk cosign ENVELOPE.json --key PEM [--url URL] [--json]
                                          show what an envelope does and add your co-signature (no node needed)
  silk submit-envelope ENVELOPE.json [--url URL] [--json]
                                          order a co-signed envelope, commit it, show how it ended
  silk keys new --out FILE [--words 24] [--no-show] [--force] [--json]
                                          make a 24-word mnemonic (shown once) and seal it in a keystore
  silk keys derive --from MNEMONIC-KEYSTORE (--function NAME|INDEX --level N [--member M] | --admin)
             --out FILE [--force] [--json]
                                          seal one hardened signing key of the tree in a keystore
  silk keys show FILE [--json]            a keystore's header: kind, public key, path, scrypt cost
  silk keys export-public FILE [--json]   the keystore's public key (hex and PEM), checked by unlocking it
  silk identity register|rotate|revoke|list CHAIN …
                                          manage an org's member and device keys on a chain
                                          (certificates signed by the parent key; silk identity for details)
  silk recall register --chain C --org O (--mnemonic-file F | --keystore F) --key PEM
             --registration-number N --registered-address A --legal-representative R [--phrase-file F]
                                          seal the org's master secret to 6 fresh words and its facts
                                          (scrypt N=2^17, r=8, p=1; HPKE), sign it, store it on chain
  silk recall recover --chain C --org O --word-file F --registration-number N --registered-address A
             --legal-representative R [--record FILE] --out FILE
                                          recover the master secret from the record, word and facts
  silk products register-prefix|register-line|register-lot|commission …
                                          GS1 company prefixes, product lines, lots; commission
                                          serialized items in batches (silk products for details)
  silk epcis import FILE --chain C --key PEM [--parts] [--url URL] [--json]
                                          validate an EPCIS 2.0 document locally and record its events
                                          (one transaction, all or nothing); prints their event hashes
  silk epcis events --chain C [--epc EPC] [--biz-step S] [--lot LOT] [--from T] [--to T] [--error-declared]
             [--where NAME=VALUE] [--per-page N] [--next-page-token T] [--url URL] [--json]
                                          recorded EPCIS events, in eventTime order (EPCIS 2.0 REST
                                          binding query names with --where, e.g. EQ_bizStep=shipping,receiving)
  silk epcis sign-sensors FILE --device-key KEY [--out FILE]
                                          sign each event's sensor readings with a registered device key
  silk guardians publish-key|setup|request|cancel|release|recover …
                                          k-of-n recovery by guardian orgs after a delay the old admin
                                          can cancel in (silk guardians for details)
  silk --help

Options:
  --data DIR   data folder (default ./data, or $SILK_DATA)
  --port N     silk start's API port (or $SILK_PORT, else $PORT; default 8080; 0: any free port)
  --json       machine-readable output
  --url URL    the node's API (or $SILK_URL; default http://127.0.0.1 at $SILK_PORT, $PORT or 8080); URL,URL2,… names
               other nodes to turn to, in order, when the one before cannot be reached
  --ca FILE    for an https URL: the CA bundle (PEM) its certificate is issued by, e.g. a
               distributed network's tls/alliance-ca.crt (or $SILK_CA; default: the system's CAs)
  --key PEM    your private key file (or $SILK_KEY); the demo writes them to data/keys/ORG/NAME.pem
Keystore passwords come from $SILK_KEYSTORE_PASSWORD (derive's new file: $SILK_KEYSTORE_NEW_PASSWORD)
or are asked on the terminal without echo.

Exit codes: 0 ok, 1 ledger or receipt failed verification, 2 bad usage, 3 other failure
(status: the node is not ready), 4 the node refused the request, or the transaction is invalid
or not found, 5 the node could not be reached.`;

/** Every command by name. */
const COMMANDS: Readonly<Record<string, Command>> = {
  start: startCommand,
  network: networkCommand,
  backup: backupCommand,
  restore: restoreCommand,
  verify: verifyCommand,
  compact: compactCommand,
  status: statusCommand,
  block: blockCommand,
  audit: auditCommand,
  tx: txCommand,
  query: queryCommand,
  submit: submitCommand,
  endorse: endorseCommand,
  cosign: cosignCommand,
  'submit-envelope': submitEnvelopeCommand,
  identity: identityCommand,
  keys: keysCommand,
  recall: recallCommand,
  guardians: guardiansCommand,
  epcis: epcisCommand,
  products: productsCommand,
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
