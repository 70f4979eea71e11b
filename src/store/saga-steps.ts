/**
 * Which sagas stepped since a mark, for the live list stream (GET /sagas/stream): StatusIndex is
 * KEYS_ONLY (status, updatedAt, orderId), so it says which sagas stepped and in what order; what
 * they are now is read from the base table by the caller (SagaStore.loadMany). The index is
 * eventually consistent: the stream says "the list changed", the list page is the truth.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ResourceNames } from '../infra/resources';

/** A step seen on the index: the saga and its updatedAt (ISO-8601) at that step. */
export interface SagaStepMark {
  orderId: string;
  updatedAt: string;
}

/** Rows read per status partition per call (a burst past it is read on the next call). */
const PAGE = 100;

/**
 * The (orderId, updatedAt) of every saga whose updatedAt is >= `since` (ISO-8601), at most 100 per
 * status, in no particular order: one Query per order status in `statuses` (the API's
 * ORDER_STATUSES, 6). The caller filters what it has already seen (same updatedAt, lower or equal
 * orderId).
 */
export async function sagasSteppedSince(
  doc: DynamoDBDocumentClient,
  tables: Pick<ResourceNames['tables'], 'orders'>,
  statuses: readonly string[],
  since: string,
): Promise<SagaStepMark[]> {
  const rows: SagaStepMark[] = [];
  await Promise.all(
    statuses.map(async (status) => {
      const page = await doc.send(
        new QueryCommand({
          TableName: tables.orders,
          IndexName: 'StatusIndex',
          KeyConditionExpression: '#s = :s AND #u >= :u',
          ExpressionAttributeNames: { '#s': 'status', '#u': 'updatedAt' },
          ExpressionAttributeValues: { ':s': status, ':u': since },
          Limit: PAGE,
        }),
      );
      rows.push(...((page.Items ?? []) as SagaStepMark[]));
    }),
  );
  return rows;
}
