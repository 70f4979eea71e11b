/**
 * Order listings over the TicketOrders GSIs. GSIs are eventually consistent on AWS (a new order
 * or a status change shows up after a short lag), so these are listings only: never use them to
 * read your own write. Reading one order is SagaStore.load (strongly consistent).
 *
 * Pages are newest first. The cursor is the query's LastEvaluatedKey, JSON, base64url-encoded:
 * opaque to clients, and checked on the way back in (right index, right partition, string keys).
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OrderItem, OrderSagaState, OrderStatus } from '../../machines/order-saga';
import type { ResourceNames } from '../infra/resources';

/** What CustomerIndex projects. */
export interface CustomerOrderSummary {
  orderId: string;
  customerId: string;
  createdAt: string;
  eventId: string;
  status: OrderStatus;
  updatedAt: string;
  items: OrderItem[];
  totalAmount: number | null;
  currency: string | null;
  sagaState: OrderSagaState;
}

/** What StatusIndex projects. */
export interface StatusOrderSummary {
  orderId: string;
  status: OrderStatus;
  updatedAt: string;
  customerId: string;
  eventId: string;
  createdAt: string;
  sagaState: OrderSagaState;
  sagaVersion: number;
  totalAmount: number | null;
  currency: string | null;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

interface IndexSpec {
  name: 'CustomerIndex' | 'StatusIndex';
  partitionKey: string;
  sortKey: string;
  attributes: readonly string[];
}

const CUSTOMER_INDEX: IndexSpec = {
  name: 'CustomerIndex',
  partitionKey: 'customerId',
  sortKey: 'createdAt',
  attributes: ['orderId', 'customerId', 'createdAt', 'eventId', 'status', 'updatedAt', 'items', 'totalAmount', 'currency', 'sagaState'],
};

const STATUS_INDEX: IndexSpec = {
  name: 'StatusIndex',
  partitionKey: 'status',
  sortKey: 'updatedAt',
  attributes: ['orderId', 'status', 'updatedAt', 'customerId', 'eventId', 'createdAt', 'sagaState', 'sagaVersion', 'totalAmount', 'currency'],
};

export const MAX_PAGE_SIZE = 100;

export class OrderQueries {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: Pick<ResourceNames['tables'], 'orders'>,
  ) {}

  /** A customer's orders, newest first (CustomerIndex). */
  listByCustomer(customerId: string, limit: number, cursor?: string): Promise<Page<CustomerOrderSummary>> {
    return this.list<CustomerOrderSummary>(CUSTOMER_INDEX, customerId, limit, cursor);
  }

  /** Orders in one status, most recently updated first (StatusIndex). */
  listByStatus(status: OrderStatus, limit: number, cursor?: string): Promise<Page<StatusOrderSummary>> {
    return this.list<StatusOrderSummary>(STATUS_INDEX, status, limit, cursor);
  }

  private async list<T>(index: IndexSpec, partition: string, limit: number, cursor: string | undefined): Promise<Page<T>> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new RangeError(`limit must be an integer in 1..${MAX_PAGE_SIZE}`);
    }
    const startKey = cursor === undefined ? undefined : decodeCursor(cursor, index, partition);
    const names: Record<string, string> = {};
    index.attributes.forEach((attribute, i) => (names[`#p${i}`] = attribute));
    names['#pk'] = index.partitionKey;
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.tables.orders,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':pk': partition },
        ProjectionExpression: index.attributes.map((_, i) => `#p${i}`).join(', '),
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: startKey,
      }),
    );
    const items = (page.Items ?? []) as T[];
    const last = page.LastEvaluatedKey;
    return { items, nextCursor: last ? encodeCursor(last) : null };
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
  const expected = ['orderId', index.partitionKey, index.sortKey].sort();
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidCursorError('cursor is not valid');
  const record = parsed as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  if (keys.length !== expected.length || keys.some((k, i) => k !== expected[i])) {
    throw new InvalidCursorError('cursor does not belong to this listing');
  }
  if (keys.some((k) => typeof record[k] !== 'string' || (record[k] as string).length === 0 || (record[k] as string).length > 256)) {
    throw new InvalidCursorError('cursor is not valid');
  }
  if (record[index.partitionKey] !== partition) throw new InvalidCursorError('cursor does not belong to this listing');
  return record as Record<string, string>;
}
