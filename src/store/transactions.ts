/**
 * TransactWriteItems with the two kinds of cancellation told apart. AWS cancels a transaction
 * that races another on the same item with `TransactionConflict` (moto never does): that one is
 * retried with jittered backoff. `ConditionalCheckFailed` is an answer, returned to the caller
 * with the index of the failing item.
 */
import {
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { backoffDelayMs, cancellationCodes, hasFaultCode, isTransactionConflict } from './dynamo-errors';

export type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

export class ConditionFailedError extends Error {
  override name = 'ConditionFailedError';
  constructor(
    /** Index of each item whose condition failed. */
    readonly failedIndexes: number[],
  ) {
    super(`condition failed on item(s) ${failedIndexes.join(', ')}`);
  }
}

const MAX_CONFLICT_RETRIES = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function transactWrite(doc: DynamoDBDocumentClient, items: TransactItems): Promise<void> {
  if (items.length > 100) throw new Error(`a transaction holds at most 100 items, got ${items.length}`);
  for (let attempt = 1; ; attempt++) {
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (error) {
      const codes = cancellationCodes(error);
      // Anything but condition failures and conflicts is a fault: never retried, never a version conflict.
      if (codes === null || hasFaultCode(codes)) throw error;
      const failed = codes.flatMap((code, i) => (code === 'ConditionalCheckFailed' ? [i] : []));
      if (failed.length > 0) throw new ConditionFailedError(failed);
      if (!isTransactionConflict(error) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      await sleep(backoffDelayMs(attempt));
    }
  }
}
