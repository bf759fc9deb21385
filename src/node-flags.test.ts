import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { missingNodeFlags, NODE_FLAGS } from './node-flags.js';

const root = new URL('../', import.meta.url);

describe('the Node.js flags of Silkledger processes', () => {
  it('npm start and npm run bench run with every one of them', () => {
    const scripts = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['start', 'bench']) {
      const words = (scripts[name] ?? '').split(/\s+/);
      assert.equal(words[0], 'node', name);
      assert.deepEqual(missingNodeFlags(words.slice(1), ''), [], `npm run ${name}: ${scripts[name]}`);
    }
  });

  it('counts a flag given on the command line or in NODE_OPTIONS, and names the ones missing', () => {
    assert.deepEqual(missingNodeFlags([], ''), [...NODE_FLAGS]);
    assert.deepEqual(missingNodeFlags([...NODE_FLAGS], ''), []);
    assert.deepEqual(missingNodeFlags(['--inspect'], `--trace-warnings ${NODE_FLAGS.join(' ')}`), []);
    assert.deepEqual(missingNodeFlags(['--max-semi-space-size=16'], ''), [...NODE_FLAGS], 'another size is not ours');
  });
});
