import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/gm;

/** Every module the compiled SDK loads at run time (type-only imports are erased), and every package. */
function runtimeGraph(entry: string): { modules: Set<string>; packages: Set<string> } {
  const modules = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (modules.has(file)) return;
    modules.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { modules, packages };
}

describe('SDK boundary', () => {
  it('loads no server-side module or package: no Fastify, peer, storage, gateway, ordering or network code', () => {
    const { modules, packages } = runtimeGraph(resolve(here, 'index.js'));
    const inside = [...modules].map((f) => relative(root, f).replaceAll('\\', '/'));
    assert.ok(inside.includes('sdk/client.js') && inside.includes('ledger/receipt.js'), `graph walk found ${inside.join(', ')}`);
    const serverSide = inside.filter((f) => /^(peer|storage|gateway|ordering|network|contracts|bench|cli)\//.test(f) || (f.startsWith('api/') && f !== 'api/wire.js'));
    assert.deepEqual(serverSide, []);
    const thirdParty = [...packages].filter((p) => !p.startsWith('node:')).sort();
    assert.deepEqual(thirdParty, ['@sinclair/typebox'], 'only the wire schemas library (src/api/wire.ts), shared with the server');
  });
});
