/**
 * The one error of key recall and guardian recovery. Each failure has a stable `reason` (in
 * `details.reason`) and a message that says which check failed, in the words the user sees.
 */
import { SilkError } from '../../errors.js';

/** Why a recall or a guardian recovery failed. */
export type RecoveryFailure =
  /** The record's (or guardian set-up's) admin signature does not verify, or its shape is broken. */
  | 'record-altered'
  /** The enterprise facts given hash to another value than the record's. */
  | 'facts-differ'
  /** The word does not open the record. */
  | 'wrong-word'
  /** What opened does not give the registered master public key. */
  | 'master-key-differs'
  /** An own phrase zxcvbn estimates below the required number of guesses. */
  | 'weak-phrase'
  /** Fewer valid guardian shares than the threshold. */
  | 'insufficient-shares'
  /** The recovery request was cancelled by the org's admin. */
  | 'request-cancelled'
  /** The recovery request's delay has not passed. */
  | 'delay-not-over'
  /** The recovery request is not signed by the new key it names. */
  | 'request-unsigned'
  /** A cost parameter of a record is above what a reader agrees to spend. */
  | 'cost-too-high';

/**
 * A recall or guardian recovery that cannot go on: code RECOVERY_FAILED, and `details.reason`
 * says which check failed.
 */
export class RecoveryError extends SilkError {
  readonly reason: RecoveryFailure;

  constructor(reason: RecoveryFailure, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('RECOVERY_FAILED', message, { ...details, reason }, options);
    this.name = 'RecoveryError';
    this.reason = reason;
  }
}

/** True when `e` is a {@link RecoveryError}, optionally of the given reason. */
export function isRecoveryError(e: unknown, reason?: RecoveryFailure): e is RecoveryError {
  return e instanceof RecoveryError && (reason === undefined || e.reason === reason);
}
