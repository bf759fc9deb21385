/**
 * One process per data folder: a lock file holding the owner's pid, taken atomically with
 * O_EXCL. A lock left by a dead process (a crash, a SIGKILL) is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SilkError } from '../errors.js';

/** A held lock. */
export interface DataLock {
  readonly path: string;
  release(): void;
}

/** Whether a process with this pid runs (one of another user counts: signalling it is refused, not failed). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock of a data folder, creating the folder if needed.
 * @param dir the data folder
 * @returns the held lock
 * @throws SilkError DATA_FOLDER_LOCKED when another live process holds it
 * @example const lock = lockDataFolder('./data'); try { … } finally { lock.release(); }
 */
export function lockDataFolder(dir: string): DataLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid: number;
      try {
        pid = Number(readFileSync(path, 'utf8').trim());
      } catch {
        continue;
      }
      if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) {
        throw new SilkError('DATA_FOLDER_LOCKED', `data folder ${dir} is in use by process ${pid}`, { pid });
      }
      rmSync(path, { force: true });
    }
  }
  throw new SilkError('DATA_FOLDER_LOCKED', `could not take the lock of ${dir}`);
}
