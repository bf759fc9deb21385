import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CODES, SilkError, VALIDATION_CODES } from './errors.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

describe('error registry', () => {
  it('docs/errors.md lists every code with its HTTP status, and the validation codes in stored order', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      assert.match(doc, new RegExp(`\\| \`${code}\` \\| ${info.http} \\|`), `docs/errors.md lacks ${code}`);
    }
    VALIDATION_CODES.forEach((code, i) => {
      assert.match(doc, new RegExp(`\\| ${i} \\| \`${code}\` \\|`), `docs/errors.md lacks validation code ${i} ${code}`);
    });
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    for (const code of documented) assert.ok(code !== undefined && code in ERROR_CODES, `docs/errors.md names unknown code ${code}`);
  });

  it('every validation code except VALID is a registered error code', () => {
    for (const code of VALIDATION_CODES) if (code !== 'VALID') assert.ok(code in ERROR_CODES, code);
  });

  it('serialises to a JSON body with the stable code and details', () => {
    const e = new SilkError('NOT_FOUND', 'no block 7', { block: 7 });
    assert.equal(e.httpStatus, 404);
    assert.deepEqual(JSON.parse(JSON.stringify(e)), { error: { code: 'NOT_FOUND', message: 'no block 7', block: 7 } });
  });
});
