/**
 * Named kill points for crash testing. When `SILK_KILL_POINT` names a point and the point has
 * been reached `SILK_KILL_AFTER` times (default 1), the process kills itself with SIGKILL there,
 * exactly as a power cut would stop it. Unset in production: the check is one comparison.
 */
const target = process.env.SILK_KILL_POINT;
let remaining = Number(process.env.SILK_KILL_AFTER ?? '1');

/** Kill points the storage layer defines. */
export type KillPoint = 'before-block-insert' | 'after-block-insert' | 'after-state-writes' | 'before-commit' | 'after-commit' | 'during-checkpoint';

/**
 * Dies here when this point is the configured one and its count is reached.
 * @param name the point reached
 */
export function killPoint(name: KillPoint): void {
  if (target !== name) return;
  remaining -= 1;
  if (remaining <= 0) process.kill(process.pid, 'SIGKILL');
}
