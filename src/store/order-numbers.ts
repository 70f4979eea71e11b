/**
 * Human-readable order numbers, ET-<year>-<sequence> (at least 6 digits): unique, allocated
 * without a hot spot.
 *
 * Allocation: a sharded counter in the OrderNumbers table. Each order picks one of SHARDS counter
 * items of its year at random and adds 1 to it (UpdateItem ADD, atomic); counter value n of shard
 * s gives sequence (n - 1) × SHARDS + s + 1. Two allocations never get the same (shard, n), and
 * the map (shard, n) → sequence is one-to-one, so no two orders share a number, however many
 * race. The writes spread over SHARDS items (partitions), so no single item takes every order:
 * DynamoDB allows about 1000 writes/s per item's partition, 16 shards ≈ 16 000 orders/s. The price:
 * numbers are unique and roughly increasing, not gapless (a failed or replayed placement leaves a
 * gap, and the shards fill unevenly).
 *
 * Lookup: the order's create also puts `number#<orderNumber>` → orderId here, before the order
 * item and unless the number is another order's, so a search by number is one GetItem. A create
 * that died before its order item leaves an item pointing at an order that does not exist (yet):
 * `find` answers the id, whose load then finds nothing until the same request finishes the create.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OrderClaim } from './saga-store';

export const ORDER_NUMBER_SHARDS = 16;
export const ORDER_NUMBER_REGEX = /^ET-(\d{4})-(\d{6,})$/;

/** ET-2026-000123 from a year and a sequence (≥ 1). */
export function formatOrderNumber(year: number, sequence: number): string {
  return `ET-${year}-${String(sequence).padStart(6, '0')}`;
}

/** The sequence of counter value `n` (≥ 1) of shard `shard` (0 ≤ shard < shards). */
export function sequenceOf(n: number, shard: number, shards = ORDER_NUMBER_SHARDS): number {
  return (n - 1) * shards + shard + 1;
}

export const orderNumberKey = (orderNumber: string): string => `number#${orderNumber}`;

export class OrderNumbers {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly table: string,
    private readonly options: { shards?: number; random?: () => number } = {},
  ) {}

  /** Allocates the next number for an order created at `now` (UTC year). */
  async allocate(now: Date): Promise<string> {
    const shards = this.options.shards ?? ORDER_NUMBER_SHARDS;
    const shard = Math.floor((this.options.random ?? Math.random)() * shards) % shards;
    const year = now.getUTCFullYear();
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { key: `counter#${year}#${shard}` },
        UpdateExpression: 'ADD #n :one',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return formatOrderNumber(year, sequenceOf(Number(Attributes?.n), shard, shards));
  }

  /**
   * The lookup item that claims `orderNumber` for `orderId`, for SagaStore.create (written before
   * the order item, unless the number is another order's; issue 25: a plain write, 1 WRU, where it
   * was 2 inside the create's transaction).
   */
  claim(orderNumber: string, orderId: string): OrderClaim {
    return { TableName: this.table, Item: { key: orderNumberKey(orderNumber), orderId }, keyAttribute: 'key' };
  }

  /** The orderId of an order number, or undefined. */
  async find(orderNumber: string): Promise<string | undefined> {
    if (!ORDER_NUMBER_REGEX.test(orderNumber)) return undefined;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { key: orderNumberKey(orderNumber) }, ConsistentRead: true }),
    );
    return typeof Item?.orderId === 'string' ? Item.orderId : undefined;
  }
}
