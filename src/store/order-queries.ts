/**
 * Order listings: by customer and by status, newest first, paged with an opaque cursor.
 *
 * What a listing guarantees (docs/api.md, "Listings"): a cursor walk returns every order that held
 * the filter for the whole walk exactly once. Two things make it so:
 * - The indexes sort on `createdKey` (`createdAt#orderId`), written once at creation, unique per
 *   order. A step rewrites `updatedAt` but never the sort key, so an order that keeps its status
 *   keeps its place and cannot jump behind a cursor (it did when StatusIndex sorted on updatedAt).
 * - The indexes are KEYS_ONLY: they give the order ids of a page in a stable order, and the page's
 *   fields are read from the base table (BatchGetItem, strongly consistent), so what is shown is
 *   current. A GSI lags on AWS: a row whose current status no longer matches is left out, so a page
 *   may hold fewer than `limit` items while `nextCursor` is still given.
 * KEYS_ONLY also keeps the index writes to one per status change (and one per order for the
 * customer index) instead of one per saga step.
 *
 * The cursor is the query's LastEvaluatedKey, JSON, base64url-encoded: opaque to clients, and
 * checked on the way back in (right index, right partition, string keys).
 */
import { BatchGetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OrderItem, OrderSagaState, OrderStatus } from '../../machines/order-saga';
import type { ResourceNames } from '../infra/resources';
import { CUSTOMER_ORDERS_INDEX, STATUS_ORDERS_INDEX } from './indexes';

/** What a listing shows of an order (amounts in minor units; the API shows decimals). */
export interface OrderSummary {
  orderId: string;
  customerId: string;
  eventId: string;
  items: OrderItem[];
  status: OrderStatus;
  sagaState: OrderSagaState;
  sagaVersion: number;
  totalAmountMinor: number | null;
  currency: string | null;
  createdAt: string;
  updatedAt: string;
}

export type CustomerOrderSummary = OrderSummary;
export type StatusOrderSummary = OrderSummary;

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

interface IndexSpec {
  name: typeof CUSTOMER_ORDERS_INDEX | typeof STATUS_ORDERS_INDEX;
  partitionKey: 'customerId' | 'status';
}

/** The listing sort key of both indexes (StoredSaga.createdKey). */
const SORT_KEY = 'createdKey';
const CUSTOMER_INDEX: IndexSpec = { name: CUSTOMER_ORDERS_INDEX, partitionKey: 'customerId' };
const STATUS_INDEX: IndexSpec = { name: STATUS_ORDERS_INDEX, partitionKey: 'status' };
const SUMMARY_ATTRIBUTES: ReadonlyArray<keyof OrderSummary> = [
  'orderId',
  'customerId',
  'eventId',
  'items',
  'status',
  'sagaState',
  'sagaVersion',
  'totalAmountMinor',
  'currency',
  'createdAt',
  'updatedAt',
];

export const MAX_PAGE_SIZE = 100;
const MAX_BATCH_GET_ROUNDS = 10;

export class OrderQueries {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: Pick<ResourceNames['tables'], 'orders'>,
  ) {}

  /** A customer's orders, newest first (CustomerIndex). */
  listByCustomer(customerId: string, limit: number, cursor?: string): Promise<Page<CustomerOrderSummary>> {
    return this.list(CUSTOMER_INDEX, customerId, limit, cursor);
  }

  /** Orders in one status, newest first by creation (StatusOrdersIndex). */
  listByStatus(status: OrderStatus, limit: number, cursor?: string): Promise<Page<StatusOrderSummary>> {
    return this.list(STATUS_INDEX, status, limit, cursor);
  }

  /**
   * The ids of the orders in one status, same order and guarantee as listByStatus but straight from
   * the index (may lag): for callers that re-read each order anyway (the stuck-saga listing).
   */
  listIdsByStatus(status: OrderStatus, limit: number, cursor?: string): Promise<Page<string>> {
    return this.queryIds(STATUS_INDEX, status, limit, cursor);
  }

  private async list(
    index: IndexSpec,
    partition: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<OrderSummary>> {
    const page = await this.queryIds(index, partition, limit, cursor);
    const current = await this.readSummaries(page.items);
    // In the index's order; without rows that left the partition since the index was written.
    const items = page.items
      .map((id) => current.get(id))
      .filter((o): o is OrderSummary => o !== undefined && o[index.partitionKey] === partition);
    return { items, nextCursor: page.nextCursor };
  }

  private async queryIds(
    index: IndexSpec,
    partition: string,
    limit: number,
    cursor: string | undefined,
  ): Promise<Page<string>> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new RangeError(`limit must be an integer in 1..${MAX_PAGE_SIZE}`);
    }
    const startKey = cursor === undefined ? undefined : decodeCursor(cursor, index, partition);
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.tables.orders,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': index.partitionKey },
        ExpressionAttributeValues: { ':pk': partition },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    const last = page.LastEvaluatedKey;
    return {
      items: (page.Items ?? []).map((row) => String(row.orderId)),
      nextCursor: last ? encodeCursor(last) : null,
    };
  }

  /** The current summaries of these orders, by id (BatchGetItem, strongly consistent). */
  private async readSummaries(ids: readonly string[]): Promise<Map<string, OrderSummary>> {
    const found = new Map<string, OrderSummary>();
    if (ids.length === 0) return found;
    const names: Record<string, string> = {};
    SUMMARY_ATTRIBUTES.forEach((attribute, i) => (names[`#a${i}`] = attribute));
    let keys: Array<Record<string, unknown>> = ids.map((orderId) => ({ orderId }));
    for (let round = 0; keys.length > 0; round++) {
      if (round >= MAX_BATCH_GET_ROUNDS)
        throw new Error(`listing: ${keys.length} orders still unprocessed after ${round} BatchGetItem rounds`);
      if (round > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
      const out = await this.doc.send(
        new BatchGetCommand({
          RequestItems: {
            [this.tables.orders]: {
              Keys: keys,
              ConsistentRead: true,
              ProjectionExpression: SUMMARY_ATTRIBUTES.map((_, i) => `#a${i}`).join(', '),
              ExpressionAttributeNames: names,
            },
          },
        }),
      );
      for (const item of out.Responses?.[this.tables.orders] ?? [])
        found.set(String(item.orderId), item as OrderSummary);
      keys = (out.UnprocessedKeys?.[this.tables.orders]?.Keys ?? []) as Array<Record<string, unknown>>;
    }
    return found;
  }
}

export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The LastEvaluatedKey a cursor carries, if it belongs to this index and partition. */
function decodeCursor(cursor: string, index: IndexSpec, partition: string): Record<string, string> {
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw new InvalidCursorError('cursor is not base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('cursor is not valid');
  }
  const expected = ['orderId', index.partitionKey, SORT_KEY].sort();
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidCursorError('cursor is not valid');
  const record = parsed as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  if (keys.length !== expected.length || keys.some((k, i) => k !== expected[i])) {
    throw new InvalidCursorError('cursor does not belong to this listing');
  }
  if (keys.some((k) => typeof record[k] !== 'string' || record[k].length === 0 || record[k].length > 512)) {
    throw new InvalidCursorError('cursor is not valid');
  }
  if (record[index.partitionKey] !== partition) throw new InvalidCursorError('cursor does not belong to this listing');
  return record as Record<string, string>;
}
