/**
 * Telling DynamoDB's write failures apart, and the jittered backoff for the ones worth retrying.
 * AWS cancels transactions that touch an item another transaction is writing (TransactionConflict)
 * and rejects single-item writes on such an item (TransactionConflictException); moto never does,
 * but the code must.
 */
import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { awsErrorName as errorName } from './errors';

/** The per-item reason codes of a cancelled transaction ('None' for items that passed), or null. */
export function cancellationCodes(error: unknown): string[] | null {
  if (errorName(error) === 'TransactionCanceledException') {
    const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
    return reasons.map((r) => r.Code ?? 'None');
  }
  return null;
}

/** The cancellation reasons that are answers about the data (retry after re-reading), not faults. */
const RETRYABLE_CANCELLATION_CODES: ReadonlySet<string> = new Set([
  'None',
  'ConditionalCheckFailed',
  'TransactionConflict',
]);

/**
 * A cancellation reason outside condition failure and conflict: a ValidationError, a value DynamoDB
 * cannot store (a lone surrogate: moto says UnicodeEncodeError), a throughput or size limit. Such
 * a transaction fails the same way every time, so it must never be retried as if it had raced.
 */
export function hasFaultCode(codes: readonly string[]): boolean {
  return codes.some((code) => !RETRYABLE_CANCELLATION_CODES.has(code));
}

/** A single-item conditional write whose condition was false. */
export function isConditionalCheckFailed(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/** A race with another transaction on the same item, and nothing else: retry after a backoff. */
export function isTransactionConflict(error: unknown): boolean {
  if (errorName(error) === 'TransactionConflictException') return true;
  const codes = cancellationCodes(error);
  return codes !== null && codes.includes('TransactionConflict') && !codes.includes('ConditionalCheckFailed');
}

/** Full jitter: a random wait in [0, min(1 s, 20 ms × 2^attempt)). */
export function backoffDelayMs(attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(1000, 20 * 2 ** Math.min(attempt, 10)));
}
