import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures.js';
import { lockDataFolder } from './data-lock.js';

describe('data folder lock', () => {
  it('refuses a second holder while the first lives, and takes over a dead holder', () => {
    const dir = tempDir();
    try {
      const lock = lockDataFolder(dir.path);
      assert.throws(() => lockDataFolder(dir.path), { code: 'DATA_FOLDER_LOCKED' });
      lock.release();
      const again = lockDataFolder(dir.path);
      again.release();
      writeFileSync(join(dir.path, 'LOCK'), '999999999');
      const takeover = lockDataFolder(dir.path);
      takeover.release();
    } finally {
      dir.cleanup();
    }
  });
});
