/**
 * TransactWriteItems for every table owner (the saga store, the inventory participant and its
 * administration), with the cancellation reasons read in one place (./dynamo-errors.ts).
 *
 * A cancelled transaction is one of three things:
 * - a condition failed on some items: an answer about the data (the caller re-reads, or reports);
 * - it raced another transaction on the same item (`TransactionConflict`, AWS only; moto never
 *   does): retried after a jittered backoff;
 * - anything else (a ValidationError, a value DynamoDB cannot store, a size or throughput limit):
 *   a fault that fails the same way every time, so it is thrown and never retried.
 */
import {
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { backoffDelayMs, cancellationCodes, hasFaultCode } from './dynamo-errors';
import { awsErrorName } from './errors';

/** One write of a transaction (Put, Update, Delete or ConditionCheck), document-client shaped. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
/** The writes of one transaction: at most {@link MAX_TRANSACTION_ITEMS}. */
export type TransactItems = TransactItem[];

/** DynamoDB's limit on the items of one TransactWriteItems call (AWS DynamoDB developer guide, "Transactions"). */
export const MAX_TRANSACTION_ITEMS = 100;

/**
 * Why a transaction did not commit, when it was not a fault: `codes` are the per-item cancellation
 * reasons ('None' for items that passed; empty for a single TransactionConflictException), `error`
 * the SDK's error (to rethrow when retries run out).
 */
export type TransactionRace =
  /** Conditions failed on these items (indexes into the items, ascending); others may have conflicted. */
  | { kind: 'condition'; failedIndexes: number[]; codes: string[]; error: unknown }
  /** It only raced another transaction: retry after a backoff. */
  | { kind: 'conflict'; codes: string[]; error: unknown };

/**
 * What a failed transaction means: a lost race (condition failure or conflict), or null for a
 * fault the caller must rethrow. A condition failure wins over a conflict in the same transaction:
 * the data said no, whatever else raced.
 */
export function transactionRace(error: unknown): TransactionRace | null {
  if (awsErrorName(error) === 'TransactionConflictException') return { kind: 'conflict', codes: [], error };
  const codes = cancellationCodes(error);
  if (codes === null || hasFaultCode(codes)) return null;
  const failedIndexes = codes.flatMap((code, i) => (code === 'ConditionalCheckFailed' ? [i] : []));
  if (failedIndexes.length > 0) return { kind: 'condition', failedIndexes, codes, error };
  if (codes.includes('TransactionConflict')) return { kind: 'conflict', codes, error };
  return null;
}

/**
 * One TransactWriteItems attempt: null when it committed, the lost race otherwise. Faults throw.
 * For callers that run their own re-read-and-retry loop (the participants, with their own clock).
 * @throws RangeError on more than {@link MAX_TRANSACTION_ITEMS} items; the SDK's error on a fault.
 */
export async function tryTransactWrite(
  doc: DynamoDBDocumentClient,
  items: TransactItems,
): Promise<TransactionRace | null> {
  if (items.length > MAX_TRANSACTION_ITEMS) {
    throw new RangeError(`a transaction holds at most ${MAX_TRANSACTION_ITEMS} items, got ${items.length}`);
  }
  try {
    await doc.send(new TransactWriteCommand({ TransactItems: items }));
    return null;
  } catch (error) {
    const race = transactionRace(error);
    if (race === null) throw error;
    return race;
  }
}

/** A transaction whose conditions failed: an answer, with the index of each failing item. */
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

/**
 * TransactWriteItems that retries conflicts (up to 8 attempts, jittered backoff) and turns
 * condition failures into {@link ConditionFailedError}.
 * @throws ConditionFailedError when a condition failed; the SDK's error on a fault or when
 * conflicts outlast the retries.
 */
export async function transactWrite(doc: DynamoDBDocumentClient, items: TransactItems): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const race = await tryTransactWrite(doc, items);
    if (race === null) return;
    if (race.kind === 'condition') throw new ConditionFailedError(race.failedIndexes);
    if (attempt >= MAX_CONFLICT_RETRIES) throw race.error;
    await sleep(backoffDelayMs(attempt));
  }
}
