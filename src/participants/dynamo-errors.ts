/**
 * Telling DynamoDB's write failures apart, and the jittered backoff for the ones worth retrying.
 * AWS cancels transactions that touch an item another transaction is writing (TransactionConflict)
 * and rejects single-item writes on such an item (TransactionConflictException); moto never does,
 * but the code must.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { defaultSleep, type ParticipantDeps } from './deps';
import { ContentionError } from './errors';

/** How many times a handler re-reads and retries before giving the message back to the queue. */
export const MAX_ATTEMPTS = 25;

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : undefined;
}

/** The per-item reason codes of a cancelled transaction ('None' for items that passed), or null. */
export function cancellationCodes(error: unknown): string[] | null {
  if (error instanceof TransactionCanceledException || errorName(error) === 'TransactionCanceledException') {
    const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
    return reasons.map((r) => r.Code ?? 'None');
  }
  return null;
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

/** Full jitter: a random wait in [0, min(cap, base * 2^attempt)). */
export async function backoff(deps: Pick<ParticipantDeps, 'sleep' | 'random'>, attempt: number): Promise<void> {
  const ceiling = Math.min(1000, 20 * 2 ** Math.min(attempt, 10));
  await (deps.sleep ?? defaultSleep)(Math.floor((deps.random ?? Math.random)() * ceiling));
}

/**
 * Writes a participant's record unless its key is taken: true when written, false when a record
 * is already there (a duplicate command). Transaction conflicts are retried with backoff.
 */
export async function putIfAbsent(
  deps: Pick<ParticipantDeps, 'doc' | 'sleep' | 'random'>,
  table: string,
  keyAttribute: string,
  item: object,
): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      await deps.doc.send(new PutCommand({ TableName: table, Item: item, ConditionExpression: `attribute_not_exists(${keyAttribute})` }));
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      if (!isTransactionConflict(error)) throw error;
      await backoff(deps, attempt);
    }
  }
  throw new ContentionError(`${table}: put still contended after ${MAX_ATTEMPTS} attempts`);
}
