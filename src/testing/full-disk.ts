/** Helpers of the tests that fill a small tmpfs to make a disk full for real. */
import { closeSync, openSync, statfsSync, writeSync } from 'node:fs';

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
