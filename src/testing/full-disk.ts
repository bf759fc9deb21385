/** Helpers of the tests that fill a small tmpfs to make a disk full for real. */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, statfsSync, writeSync } from 'node:fs';
import { tempDir } from './fixtures.js';

/**
 * Runs `use` with a fresh tmpfs of `sizeMb` MiB mounted on a temporary folder (the tests run as
 * root), then unmounts and removes it, whatever `use` did.
 */
export async function withSmallFileSystem<T>(sizeMb: number, use: (dir: string) => Promise<T>): Promise<T> {
  const mnt = tempDir('silk-small-fs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', mnt.path]);
  try {
    return await use(mnt.path);
  } finally {
    execFileSync('umount', [mnt.path]);
    mnt.cleanup();
  }
}

/** Bytes an unprivileged writer may still use on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/**
 * Writes `path` until the file system holding `dir` has at most `leave` bytes free.
 * @param chunkBytes the size of each write (smaller chunks stop closer to `leave`)
 */
export function fillFileSystem(path: string, dir: string, leave: number, chunkBytes = 16 * 1024): void {
  const fd = openSync(path, 'w');
  try {
    const chunk = Buffer.alloc(chunkBytes, 1);
    while (freeBytes(dir) > leave) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}
