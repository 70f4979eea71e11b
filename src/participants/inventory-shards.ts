/**
 * Sharded hot inventory: one ticket type's seats split over N DynamoDB items, so that a flash sale
 * writes N partitions instead of one. A partition takes ~1,000 WCU/s (an AWS limit) and a sale
 * writes its ticket type's item 2 WRU (the hold's transaction: 2 WRU per item per KB; the confirm
 * leaves the inventory alone), so one item caps a ticket type at ~500 sales/s; N shards raise that N-fold.
 *
 * Layout (docs/flash-sale.md):
 * - shard 0 is the ticket type's own row (eventId, ticketType), as before sharding: it keeps the
 *   metadata (totalQuantity = the type's total, priceMinor, currency, eventName) and, from N > 1 on,
 *   `shardCount` and `shardTotal` (its own seats). An unsharded row has neither and is shard 0 of 1,
 *   so data written before sharding keeps working unchanged.
 * - shard k >= 1 is the row (`<eventId>#<k>`, ticketType) — its own partition key, so its own
 *   partition on AWS ('#' cannot occur in an event id) — with `shardOf`, `shard`, `shardTotal`, the
 *   three counters, and a copy of priceMinor and currency (the reserve's condition checks them there).
 * - per shard: available + reserved + sold = shardTotal, none negative (reserved + sold are the seats
 *   taken: src/participants/inventory.ts, takenColumnOf); per ticket type: the sum of
 *   shardTotal over its shards = totalQuantity. Sales move seats within one shard; only the admin
 *   (PUT, raise, rebalance) moves shardTotal, always with the same amount of available seats, in one
 *   transaction guarded by `available >= moved` on the giving shard.
 */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { tryTransactWrite, type TransactItem } from '../aws/transactions';
import type { ParticipantDeps } from './deps';
import { nowIso } from './deps';
import { backoff } from './retries';
import { InventoryConflictError } from './errors';
import type { InventoryRow, ShardTake } from './records';

/** Shards per ticket type: each one is an item in the PUT's transaction, which holds at most 100 (an AWS limit). */
export const MAX_SHARDS = 100;

/** One shard's counters as read (shard 0 from the ticket type's row). */
export interface ShardState {
  shard: number;
  shardTotal: number;
  availableQuantity: number;
  reservedQuantity: number;
  soldQuantity: number;
  priceMinor: number;
  currency: string;
}

/** A stored shard row k >= 1 (shard 0 is the InventoryRow itself). */
export interface ShardRow {
  /** `<eventId>#<k>`: the shard's partition key. */
  eventId: string;
  ticketType: string;
  shardOf: string;
  shard: number;
  shardTotal: number;
  availableQuantity: number;
  reservedQuantity: number;
  soldQuantity: number;
  priceMinor: number;
  currency: string;
  version: number;
  updatedAt: string;
}

type Deps = Pick<ParticipantDeps, 'doc' | 'tables'>;

/** 1 for a row written before sharding (or with one shard). */
export function shardCountOf(row: Pick<InventoryRow, 'shardCount'>): number {
  return row.shardCount ?? 1;
}

/** The seats of shard 0 (the type's row): its shardTotal, or the type's total when unsharded. */
export function headShardTotal(row: Pick<InventoryRow, 'shardTotal' | 'totalQuantity'>): number {
  return row.shardTotal ?? row.totalQuantity;
}

/** The partition key of shard k of an event's ticket type. */
export function shardPartition(eventId: string, shard: number): string {
  return shard === 0 ? eventId : `${eventId}#${shard}`;
}

/** The DynamoDB key of one shard. */
export function shardKey(eventId: string, ticketType: string, shard: number): { eventId: string; ticketType: string } {
  return { eventId: shardPartition(eventId, shard), ticketType };
}

/** True for a stored row that is a shard k >= 1, not a ticket type. */
export function isShardRow(row: object): row is ShardRow {
  return typeof (row as { shardOf?: unknown }).shardOf === 'string';
}

/** `total` seats over `n` shards as evenly as possible, the first ones taking the remainder. */
export function splitEvenly(total: number, n: number): number[] {
  const base = Math.floor(total / n);
  return Array.from({ length: n }, (_, k) => base + (k < total % n ? 1 : 0));
}

function headState(row: InventoryRow): ShardState {
  return {
    shard: 0,
    shardTotal: headShardTotal(row),
    availableQuantity: row.availableQuantity,
    reservedQuantity: row.reservedQuantity,
    soldQuantity: row.soldQuantity,
    priceMinor: row.priceMinor,
    currency: row.currency,
  };
}

/**
 * Every shard of the given ticket types, read consistently with BatchGetItem (one call per 100
 * keys; unprocessed keys read again). A shard row not (yet) written reads as an empty shard.
 */
export async function readShards(
  deps: Deps,
  eventId: string,
  heads: readonly InventoryRow[],
): Promise<Map<string, ShardState[]>> {
  const out = new Map<string, ShardState[]>();
  const keys: Array<{ eventId: string; ticketType: string }> = [];
  for (const head of heads) {
    keys.push(shardKey(eventId, head.ticketType, 0));
    for (let k = 1; k < shardCountOf(head); k++) keys.push(shardKey(eventId, head.ticketType, k));
  }
  const found = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Array<Record<string, unknown>> | undefined = keys.slice(i, i + 100);
    for (let round = 0; pending && pending.length > 0; round++) {
      const res = await deps.doc.send(
        new BatchGetCommand({ RequestItems: { [deps.tables.inventory]: { Keys: pending, ConsistentRead: true } } }),
      );
      for (const item of res.Responses?.[deps.tables.inventory] ?? [])
        found.set(`${String(item.eventId)}|${String(item.ticketType)}`, item);
      pending = res.UnprocessedKeys?.[deps.tables.inventory]?.Keys as Array<Record<string, unknown>> | undefined;
      if (pending && pending.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** round)));
    }
  }
  for (const head of heads) {
    const shards: ShardState[] = [];
    for (let k = 0; k < shardCountOf(head); k++) {
      const key = shardKey(eventId, head.ticketType, k);
      const item = found.get(`${key.eventId}|${key.ticketType}`);
      if (k === 0) {
        shards.push(headState((item as InventoryRow | undefined) ?? head));
      } else {
        const row = item as ShardRow | undefined;
        shards.push({
          shard: k,
          shardTotal: row?.shardTotal ?? 0,
          availableQuantity: row?.availableQuantity ?? 0,
          reservedQuantity: row?.reservedQuantity ?? 0,
          soldQuantity: row?.soldQuantity ?? 0,
          priceMinor: row?.priceMinor ?? head.priceMinor,
          currency: row?.currency ?? head.currency,
        });
      }
    }
    out.set(head.ticketType, shards);
  }
  return out;
}

/**
 * The available seats of the given shards right after a write, read consistently with
 * BatchGetItem (the keys deduplicated; unprocessed keys read again). Keyed `<ticketType>|<shard>`;
 * a shard row not (yet) written reads as 0. Used to see whether a reservation took the last seats.
 */
export async function readShardAvailability(
  deps: Deps,
  eventId: string,
  shards: ReadonlyArray<Pick<ShardTake, 'ticketType' | 'shard'>>,
): Promise<Map<string, number>> {
  const wanted = new Map(shards.map((s) => [`${s.ticketType}|${s.shard}`, s]));
  const out = new Map<string, number>([...wanted.keys()].map((k) => [k, 0]));
  const keys = [...wanted.values()].map((s) => shardKey(eventId, s.ticketType, s.shard));
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Array<Record<string, unknown>> | undefined = keys.slice(i, i + 100);
    for (let round = 0; pending && pending.length > 0; round++) {
      const res = await deps.doc.send(
        new BatchGetCommand({ RequestItems: { [deps.tables.inventory]: { Keys: pending, ConsistentRead: true } } }),
      );
      for (const item of res.Responses?.[deps.tables.inventory] ?? []) {
        const shard = typeof item.shard === 'number' ? item.shard : 0;
        out.set(`${String(item.ticketType)}|${shard}`, Number(item.availableQuantity ?? 0));
      }
      pending = res.UnprocessedKeys?.[deps.tables.inventory]?.Keys as Array<Record<string, unknown>> | undefined;
      if (pending && pending.length > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** round)));
    }
  }
  return out;
}

/** The ticket type's counters summed over its shards. */
export function sumShards(shards: readonly ShardState[]): {
  availableQuantity: number;
  reservedQuantity: number;
  soldQuantity: number;
} {
  return shards.reduce(
    (acc, s) => ({
      availableQuantity: acc.availableQuantity + s.availableQuantity,
      reservedQuantity: acc.reservedQuantity + s.reservedQuantity,
      soldQuantity: acc.soldQuantity + s.soldQuantity,
    }),
    { availableQuantity: 0, reservedQuantity: 0, soldQuantity: 0 },
  );
}

/**
 * The fast path: each ticket type from one shard picked at random, without reading the shards.
 * The transaction's `available >= q` condition says whether it could cover the quantity.
 */
export function blindTakes(
  items: ReadonlyArray<{ ticketType: string; quantity: number }>,
  heads: ReadonlyMap<string, Pick<InventoryRow, 'shardCount'>>,
  random: () => number,
): ShardTake[] {
  return items.map(({ ticketType, quantity }) => {
    const n = shardCountOf(heads.get(ticketType) ?? { shardCount: 1 });
    return { ticketType, shard: n === 1 ? 0 : Math.min(n - 1, Math.floor(random() * n)), quantity };
  });
}

export type TakePlan =
  { ok: true; takes: ShardTake[] } | { ok: false; ticketType: string; available: number; requested: number };

/**
 * The slow path, from shards just read: per ticket type one shard that covers the quantity (a
 * random one among those that can, to spread load), else the fewest shards, fullest first (the
 * order then spans shards). Not ok when the shards together have fewer seats than asked.
 */
export function planTakes(
  items: ReadonlyArray<{ ticketType: string; quantity: number }>,
  shardsByType: ReadonlyMap<string, readonly ShardState[]>,
  random: () => number,
): TakePlan {
  const takes: ShardTake[] = [];
  for (const { ticketType, quantity } of items) {
    const shards = shardsByType.get(ticketType) ?? [];
    const available = shards.reduce((a, s) => a + s.availableQuantity, 0);
    if (available < quantity) return { ok: false, ticketType, available, requested: quantity };
    const covering = shards.filter((s) => s.availableQuantity >= quantity);
    if (covering.length > 0) {
      const pick = covering[Math.min(covering.length - 1, Math.floor(random() * covering.length))];
      takes.push({ ticketType, shard: pick.shard, quantity });
      continue;
    }
    let left = quantity;
    for (const s of [...shards].sort((a, b) => b.availableQuantity - a.availableQuantity)) {
      if (left === 0) break;
      const q = Math.min(left, s.availableQuantity);
      if (q > 0) takes.push({ ticketType, shard: s.shard, quantity: q });
      left -= q;
    }
  }
  return { ok: true, takes };
}

/**
 * The shard column that counts a reservation's seats (src/participants/inventory.ts;
 * docs/data-model.md, "Seats taken"):
 * `reservedQuantity` is the seats taken — every hold, and every sale confirmed by this build, whose
 * confirm leaves the shard alone (issue 25: the confirm is one UpdateItem, ~2 WRU, not a 6-WRU
 * transaction). `soldQuantity` holds only the sales the previous build confirmed (it moved the seats
 * there), marked by the absence of `seatsStayTaken`; nothing adds to it any more.
 */
export function takenColumnOf(
  reservation: { seatsStayTaken?: boolean },
  from: 'ACTIVE' | 'CONFIRMED',
): 'reservedQuantity' | 'soldQuantity' {
  return from === 'ACTIVE' || reservation.seatsStayTaken === true ? 'reservedQuantity' : 'soldQuantity';
}

/** A reservation's shards: recorded ones, or for one written before sharding, shard 0 of each item. */
export function takesOf(reservation: {
  shards?: ShardTake[];
  items: ReadonlyArray<{ ticketType: string; quantity: number }>;
}): ShardTake[] {
  return (
    reservation.shards ?? reservation.items.map((i) => ({ ticketType: i.ticketType, shard: 0, quantity: i.quantity }))
  );
}

// ---------------------------------------------------------------------------------------------
// Moving seats between shards (admin): rebalance
// ---------------------------------------------------------------------------------------------

/**
 * The update that moves `delta` seats into (delta > 0) or out of (delta < 0) one shard's
 * shardTotal and availableQuantity together, so the shard stays balanced. Out of a shard is
 * conditioned on `available >= -delta`: a concurrent sale may have taken the seats first.
 */
export function moveSeatsUpdate(
  table: string,
  eventId: string,
  ticketType: string,
  shard: number,
  delta: number,
  now: string,
): TransactItem {
  return {
    Update: {
      TableName: table,
      Key: shardKey(eventId, ticketType, shard),
      UpdateExpression:
        'SET #shardTotal = #shardTotal + :d, #available = #available + :d, #version = #version + :one, #updatedAt = :now',
      ConditionExpression: 'attribute_exists(#shardTotal) AND #available >= :need',
      ExpressionAttributeNames: {
        '#shardTotal': 'shardTotal',
        '#available': 'availableQuantity',
        '#version': 'version',
        '#updatedAt': 'updatedAt',
      },
      ExpressionAttributeValues: { ':d': delta, ':one': 1, ':now': now, ':need': Math.max(0, -delta) },
    },
  };
}

/**
 * Evens out the available seats of one ticket type over its shards, so the fast path finds seats
 * on whichever shard it picks. One transaction moves seats from fuller shards to emptier ones;
 * a concurrent sale that took a giving shard's seats fails its condition and the move is planned
 * again from a fresh read. Never changes the type's total, nor any reserved or sold seat.
 * Returns the seats moved (0 when already even or unsharded).
 * Throws InventoryConflictError when it keeps losing races (a rush: try again later).
 */
export async function rebalanceShards(
  deps: Pick<ParticipantDeps, 'doc' | 'tables' | 'logger' | 'now' | 'sleep' | 'random'>,
  eventId: string,
  head: InventoryRow,
): Promise<number> {
  const n = shardCountOf(head);
  if (n === 1) return 0;
  for (let attempt = 0; attempt < 10; attempt++) {
    const shards = (await readShards(deps, eventId, [head])).get(head.ticketType) ?? [];
    const available = shards.reduce((a, s) => a + s.availableQuantity, 0);
    const target = splitEvenly(available, n);
    // The fullest shards keep the extra seats of the remainder: fewer moves.
    const order = [...shards].sort((a, b) => b.availableQuantity - a.availableQuantity);
    const deltas = new Map(order.map((s, i) => [s.shard, target[i] - s.availableQuantity]));
    const moves = [...deltas].filter(([, d]) => d !== 0);
    if (moves.length === 0) return 0;
    const now = nowIso(deps);
    const writes = moves.map(([shard, d]) =>
      moveSeatsUpdate(deps.tables.inventory, eventId, head.ticketType, shard, d, now),
    );
    // Only a lost race comes back to be retried; a fault (a value DynamoDB refuses, a limit) throws.
    if ((await tryTransactWrite(deps.doc, writes)) !== null) {
      await backoff(deps, attempt);
      continue;
    }
    const moved = moves.reduce((a, [, d]) => a + Math.max(0, d), 0);
    deps.logger.info('inventory shards rebalanced', { eventId, ticketType: head.ticketType, shards: n, moved });
    return moved;
  }
  throw new InventoryConflictError(`shards of ${head.ticketType} kept changing during a rebalance; try again`, {
    eventId,
    ticketType: head.ticketType,
  });
}
