/**
 * The participants' retries: how often, how long to wait, and the conditional put they all use.
 * Telling DynamoDB's failures apart is shared by every table owner (src/aws/dynamo-errors.ts), and
 * so are transactions (src/aws/transactions.ts).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { backoffDelayMs, isConditionalCheckFailed, isTransactionConflict } from '../aws/dynamo-errors';
import { defaultSleep, type ParticipantDeps } from './deps';
import { ContentionError } from './errors';

/** How many times a handler re-reads and retries before giving the message back to the queue. */
export const MAX_ATTEMPTS = 25;

/** Full jitter, with the participant's own clock and randomness (tests control both). */
export async function backoff(deps: Pick<ParticipantDeps, 'sleep' | 'random'>, attempt: number): Promise<void> {
  await (deps.sleep ?? defaultSleep)(backoffDelayMs(attempt, deps.random));
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
      await deps.doc.send(
        new PutCommand({ TableName: table, Item: item, ConditionExpression: `attribute_not_exists(${keyAttribute})` }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      if (!isTransactionConflict(error)) throw error;
      await backoff(deps, attempt);
    }
  }
  throw new ContentionError(`${table}: put still contended after ${MAX_ATTEMPTS} attempts`);
}
