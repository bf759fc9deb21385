/** A progress bar on stderr for long CLI work; silent when stderr is not a terminal or in --json mode. */

/** A progress bar. */
export interface ProgressBar {
  update(done: number, total: number): void;
  finish(): void;
}

/**
 * Creates a progress bar labelled `label`.
 * @param enabled false to draw nothing (scripts, --json)
 */
export function createProgressBar(label: string, enabled = process.stderr.isTTY): ProgressBar {
  let last = 0;
  const width = 30;
  const draw = (done: number, total: number): void => {
    const share = total === 0 ? 1 : done / total;
    const filled = Math.round(share * width);
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${(share * 100).toFixed(0)}%`);
  };
  return {
    update(done, total) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done, total);
    },
    finish() {
      if (enabled) process.stderr.write('\n');
    },
  };
}
