/**
 * Human-readable order numbers, ET-<year>-<sequence> (at least 6 digits): unique, allocated
 * without a hot spot.
 *
 * Allocation: a sharded counter in the OrderNumbers table. A process takes a block of
 * ORDER_NUMBER_BLOCK counter values at once from one of SHARDS counter items of the year, picked
 * at random (UpdateItem ADD block, atomic: it returns the block's last value n, so the block is
 * n - block + 1 … n), and hands them out one by one; counter value n of shard s gives sequence
 * (n - 1) × SHARDS + s + 1. Two blocks never overlap, a value is handed out once (in this
 * process's memory), and the map (shard, n) → sequence is one-to-one, so no two orders share a
 * number, however many processes race. The writes spread over SHARDS items (partitions), so no
 * single item takes every order: DynamoDB allows about 1000 writes/s per item's partition, and
 * each write serves a block. The price: numbers are unique and roughly increasing, not gapless (a
 * failed or replayed placement leaves a gap, a process that stops leaves the rest of its block
 * unused, and the shards fill unevenly). Issue 25: the counter's write is 1 WRU per block, i.e.
 * 0.1 WRU per order, where it was 1 per order.
 *
 * Lookup: the order's create puts `number#<orderNumber>` → orderId here (`claim`), after its
 * version-1 Events row and before its order item, unless the number is another order's, so a
 * search by number is one GetItem. A create that died before its order item leaves an item
 * pointing at an order that does not exist (yet): `find` answers the id, whose load then finds
 * nothing until the same request finishes the create with the same number (SagaRuntime.place).
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '../aws/dynamo-errors';

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

/** Counter values a process takes per counter write (see the module's comment). */
export const ORDER_NUMBER_BLOCK = 10;

/** The number is claimed by another order: never taken over (a bug if it happens: blocks never overlap). */
export class OrderNumberTakenError extends Error {
  override name = 'OrderNumberTakenError';
}

export class OrderNumbers {
  /** The block being handed out: counter values `next` … `last` of `shard` in `year`. */
  private block: { year: number; shard: number; next: number; last: number } | undefined;
  private refill: Promise<void> | undefined;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly table: string,
    private readonly options: { shards?: number; random?: () => number; block?: number } = {},
  ) {}

  /** Allocates the next number for an order created at `now` (UTC year). */
  async allocate(now: Date): Promise<string> {
    const shards = this.options.shards ?? ORDER_NUMBER_SHARDS;
    const year = now.getUTCFullYear();
    for (;;) {
      const block = this.block;
      if (block && block.year === year && block.next <= block.last) {
        const n = block.next++;
        return formatOrderNumber(year, sequenceOf(n, block.shard, shards));
      }
      // One counter write at a time refills the block for everyone waiting (JS runs one callback
      // at a time, so between the check above and `next++` nobody else takes the value).
      this.refill ??= this.takeBlock(year, shards).finally(() => {
        this.refill = undefined;
      });
      await this.refill;
    }
  }

  /** Takes the next block of counter values of a random shard of `year` (one UpdateItem ADD). */
  private async takeBlock(year: number, shards: number): Promise<void> {
    const size = Math.max(1, Math.floor(this.options.block ?? ORDER_NUMBER_BLOCK));
    const shard = Math.floor((this.options.random ?? Math.random)() * shards) % shards;
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { key: `counter#${year}#${shard}` },
        UpdateExpression: 'ADD #n :size',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':size': size },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const last = Number(Attributes?.n);
    this.block = { year, shard, next: last - size + 1, last };
  }

  /**
   * Writes the lookup item `number#<orderNumber>` → `orderId` (SagaRuntime.place, before the order
   * item; a plain write, 1 WRU, where it was 2 inside the create's transaction). Idempotent for
   * the same order (a create finished twice).
   * @throws OrderNumberTakenError when the number is another order's.
   */
  async claim(orderNumber: string, orderId: string): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { key: orderNumberKey(orderNumber), orderId },
          ConditionExpression: 'attribute_not_exists(#k) OR #owner = :owner',
          ExpressionAttributeNames: { '#k': 'key', '#owner': 'orderId' },
          ExpressionAttributeValues: { ':owner': orderId },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error))
        throw new OrderNumberTakenError(`${orderNumber} is claimed by another order than ${orderId}`, { cause: error });
      throw error;
    }
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
