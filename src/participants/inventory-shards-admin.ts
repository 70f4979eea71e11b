/**
 * The inventory admin's writes for a sharded ticket type (src/participants/inventory-shards.ts):
 * creating one over N shards, changing its total or price, and raising its shard count. Kept apart
 * from inventory-admin.ts, which plans the unsharded rows as before and hands sharded ones here.
 *
 * Every write moves a shard's shardTotal and availableQuantity by the same amount, so each shard
 * stays balanced; a reduction is conditioned on `available >= taken` on each giving shard, the
 * type's row on the total it was read with (a racing admin write makes the loser plan again).
 * Shards are never removed: a reservation may hold seats on any of them.
 */
import type { TransactItem } from '../aws/transactions';
import { InventoryConflictError } from './errors';
import {
  headShardTotal,
  MAX_SHARDS,
  shardCountOf,
  shardKey,
  splitEvenly,
  type ShardRow,
  type ShardState,
} from './inventory-shards';
import type { InventoryRow } from './records';

/** What a PUT asks of one ticket type (inventory-admin's TicketTypeInput). */
export interface ShardedTypeInput {
  ticketType: string;
  totalQuantity: number;
  priceMinor: number;
  currency: string;
  /** Shards wanted; absent keeps the current count (1 for a new type). */
  shards?: number;
}

export { MAX_SHARDS };

/** True when this input is planned here: it asks for shards, or its row is already sharded. */
export function needsShardPlan(t: ShardedTypeInput, row: InventoryRow | undefined): boolean {
  return (t.shards ?? 1) > 1 || (row !== undefined && shardCountOf(row) > 1);
}

function shardRow(eventId: string, t: ShardedTypeInput, shard: number, seats: number, now: string): ShardRow {
  return {
    ...shardKey(eventId, t.ticketType, shard),
    shardOf: eventId,
    shard,
    shardTotal: seats,
    availableQuantity: seats,
    reservedQuantity: 0,
    soldQuantity: 0,
    priceMinor: t.priceMinor,
    currency: t.currency,
    version: 1,
    updatedAt: now,
  };
}

/**
 * The writes for one sharded ticket type. `row` and `shards` are the type's row and its shards as
 * just read (both undefined for a new type). Returns the writes and whether seats should be spread
 * afterwards (new shards, or seats added to shard 0). Throws InventoryConflictError for a shard
 * count lowered, or a reduction the available seats cannot cover.
 */
export function planShardedType(
  eventId: string,
  eventName: string,
  t: ShardedTypeInput,
  row: InventoryRow | undefined,
  shards: readonly ShardState[] | undefined,
  table: string,
  now: string,
): { writes: TransactItem[]; rebalance: boolean } {
  if (!row) {
    const n = t.shards ?? 1;
    const split = splitEvenly(t.totalQuantity, n);
    const head: InventoryRow = {
      eventId,
      ticketType: t.ticketType,
      eventName,
      totalQuantity: t.totalQuantity,
      availableQuantity: split[0],
      reservedQuantity: 0,
      soldQuantity: 0,
      priceMinor: t.priceMinor,
      currency: t.currency,
      version: 1,
      updatedAt: now,
      shardCount: n,
      shardTotal: split[0],
    };
    const writes: TransactItem[] = [
      { Put: { TableName: table, Item: head, ConditionExpression: 'attribute_not_exists(eventId)' } },
    ];
    for (let k = 1; k < n; k++) {
      writes.push({
        Put: {
          TableName: table,
          Item: shardRow(eventId, t, k, split[k], now),
          ConditionExpression: 'attribute_not_exists(eventId)',
        },
      });
    }
    return { writes, rebalance: false };
  }

  const n = shardCountOf(row);
  const m = t.shards ?? n;
  if (m < n) {
    throw new InventoryConflictError(`${t.ticketType} has ${n} shards; shards can be raised, not lowered`, {
      eventId,
      ticketType: t.ticketType,
    });
  }
  const current = shards ?? [];
  const delta = t.totalQuantity - row.totalQuantity;
  // Per-shard change of seats: additions go to shard 0 (then spread), reductions come from the
  // fullest shards.
  const d = new Array<number>(n).fill(0);
  if (delta >= 0) {
    d[0] = delta;
  } else {
    const available = current.reduce((a, s) => a + s.availableQuantity, 0);
    if (available + delta < 0) {
      const taken = current.reduce((a, s) => a + s.reservedQuantity + s.soldQuantity, 0);
      throw new InventoryConflictError(
        `cannot set ${t.ticketType} to ${t.totalQuantity} seats: ${taken} are held or sold`,
        {
          eventId,
          ticketType: t.ticketType,
          availableQuantity: available,
          delta,
        },
      );
    }
    let left = -delta;
    for (const s of [...current].sort((a, b) => b.availableQuantity - a.availableQuantity)) {
      const q = Math.min(left, s.availableQuantity);
      d[s.shard] = -q;
      left -= q;
    }
  }
  const priceChanged = row.priceMinor !== t.priceMinor || row.currency !== t.currency;
  if (delta === 0 && m === n && !priceChanged && row.eventName === eventName) return { writes: [], rebalance: false };

  const writes: TransactItem[] = [
    {
      Update: {
        TableName: table,
        Key: shardKey(eventId, t.ticketType, 0),
        UpdateExpression:
          'SET #total = :total, #shardTotal = :shardTotal, #available = #available + :d, #shardCount = :m, #priceMinor = :priceMinor, #currency = :currency, #eventName = :eventName, #version = #version + :one, #updatedAt = :now',
        // Read-then-write on the admin-only attributes; sales move the counters, never these.
        ConditionExpression:
          '#total = :readTotal AND #available >= :need AND (attribute_not_exists(#shardCount) OR #shardCount = :n) AND (attribute_not_exists(#shardTotal) OR #shardTotal = :readShardTotal)',
        ExpressionAttributeNames: {
          '#total': 'totalQuantity',
          '#shardTotal': 'shardTotal',
          '#available': 'availableQuantity',
          '#shardCount': 'shardCount',
          '#priceMinor': 'priceMinor',
          '#currency': 'currency',
          '#eventName': 'eventName',
          '#version': 'version',
          '#updatedAt': 'updatedAt',
        },
        ExpressionAttributeValues: {
          ':total': t.totalQuantity,
          ':shardTotal': headShardTotal(row) + d[0],
          ':d': d[0],
          ':m': m,
          ':priceMinor': t.priceMinor,
          ':currency': t.currency,
          ':eventName': eventName,
          ':one': 1,
          ':now': now,
          ':readTotal': row.totalQuantity,
          ':need': Math.max(0, -d[0]),
          ':n': n,
          ':readShardTotal': headShardTotal(row),
        },
      },
    },
  ];
  for (let k = 1; k < n; k++) {
    if (d[k] === 0 && !priceChanged) continue;
    writes.push({
      Update: {
        TableName: table,
        Key: shardKey(eventId, t.ticketType, k),
        UpdateExpression:
          'SET #shardTotal = #shardTotal + :d, #available = #available + :d, #priceMinor = :priceMinor, #currency = :currency, #version = #version + :one, #updatedAt = :now',
        ConditionExpression: 'attribute_exists(#shardTotal) AND #available >= :need',
        ExpressionAttributeNames: {
          '#shardTotal': 'shardTotal',
          '#available': 'availableQuantity',
          '#priceMinor': 'priceMinor',
          '#currency': 'currency',
          '#version': 'version',
          '#updatedAt': 'updatedAt',
        },
        ExpressionAttributeValues: {
          ':d': d[k],
          ':priceMinor': t.priceMinor,
          ':currency': t.currency,
          ':one': 1,
          ':now': now,
          ':need': Math.max(0, -d[k]),
        },
      },
    });
  }
  for (let k = n; k < m; k++) {
    writes.push({
      Put: {
        TableName: table,
        Item: shardRow(eventId, t, k, 0, now),
        ConditionExpression: 'attribute_not_exists(eventId)',
      },
    });
  }
  return { writes, rebalance: m > n || (delta > 0 && m > 1) };
}
