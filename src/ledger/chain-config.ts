/**
 * Chain configuration: members and their roles, orderers, contracts with their versions and
 * endorsement policies, the admin policy for changing all of this, the timestamp window and
 * batching. Block 0 carries the first configuration; later ones arrive as configuration
 * transactions endorsed by the chain's admins.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { SilkError } from '../errors.js';
import { compileEndorsementPolicy } from './endorsement-policy.js';

/** Name of the system namespace holding the configuration. */
export const CONFIG_NAMESPACE = '_config';
/** State key of the configuration in {@link CONFIG_NAMESPACE}. */
export const CONFIG_KEY = 'config';

const Name = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$' });
const KeyHex = Type.String({ pattern: '^0[23][0-9a-f]{64}$' });

const MemberSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  key: KeyHex,
  role: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$' }),
}, { additionalProperties: false });

const ChainConfigSchema = Type.Object({
  v: Type.Literal(1),
  chain: Name,
  sequence: Type.Integer({ minimum: 0 }),
  orgs: Type.Record(Name, Type.Object({ members: Type.Array(MemberSchema, { maxItems: 10_000 }) }, { additionalProperties: false })),
  orderers: Type.Array(KeyHex, { minItems: 1, maxItems: 64 }),
  adminPolicy: Type.String({ minLength: 1, maxLength: 4096 }),
  contracts: Type.Record(Name, Type.Object({
    version: Type.String({ minLength: 1, maxLength: 32 }),
    policy: Type.String({ minLength: 1, maxLength: 4096 }),
  }, { additionalProperties: false })),
  txWindowMs: Type.Integer({ minimum: 1000, maximum: 86_400_000 }),
  batch: Type.Object({
    maxTxs: Type.Integer({ minimum: 1, maximum: 10_000 }),
    maxBytes: Type.Integer({ minimum: 1024, maximum: 32 * 1024 * 1024 }),
    timeoutMs: Type.Integer({ minimum: 1, maximum: 60_000 }),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

/** A chain's configuration. */
export type ChainConfig = Static<typeof ChainConfigSchema>;
/** One member key of an org. */
export type MemberConfig = Static<typeof MemberSchema>;

const checker = TypeCompiler.Compile(ChainConfigSchema);

/**
 * Checks a configuration value: schema, parseable policies, unique keys, an admin in every org.
 * @param value untrusted JSON
 * @returns the typed configuration
 * @throws SilkError CONFIG_INVALID naming the failing path
 */
export function validateChainConfig(value: unknown): ChainConfig {
  const first = checker.Errors(value).First();
  if (first !== undefined) {
    throw new SilkError('CONFIG_INVALID', `config${first.path.replaceAll('/', '.')}: ${first.message}`, { path: first.path });
  }
  const config = value as ChainConfig;
  const seen = new Set<string>();
  for (const [org, { members }] of Object.entries(config.orgs)) {
    for (const m of members) {
      if (seen.has(m.key)) throw new SilkError('CONFIG_INVALID', `config.orgs.${org}: key ${m.key.slice(0, 12)}… is registered twice`);
      seen.add(m.key);
    }
    if (!members.some((m) => m.role === 'admin')) throw new SilkError('CONFIG_INVALID', `config.orgs.${org}: an org needs at least one admin`);
  }
  const policies: [string, string][] = [['adminPolicy', config.adminPolicy], ...Object.entries(config.contracts).map(([n, c]): [string, string] => [`contracts.${n}.policy`, c.policy])];
  for (const [path, text] of policies) {
    try {
      compileEndorsementPolicy(text);
    } catch (cause) {
      throw new SilkError('CONFIG_INVALID', `config.${path}: ${(cause as Error).message}`, { path }, { cause });
    }
  }
  return config;
}
