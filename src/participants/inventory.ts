/**
 * The inventory participant: holds, confirms and releases seats.
 *
 * A shard counts `availableQuantity` and the seats taken (held or sold). The taken seats are
 * `reservedQuantity` — every hold, and every sale this build confirmed — plus `soldQuantity`, the
 * sales the previous build confirmed (it moved them there; nothing adds to it any more). So per shard
 * available + reserved + sold = total after every committed write, none negative.
 * - A hold and a release are one transaction: the reservation's status and the seats (available ⇄
 *   taken) in the same write, guarded by conditions; a re-delivered command finds the reservation
 *   in its new state and replies without moving seats again.
 * - A confirm changes the reservation alone (ACTIVE → CONFIRMED, one conditional UpdateItem, issue 25):
 *   the seats stay taken. Which taken seats are sold is the reservations' statuses to say. It reads
 *   nothing first: a failed condition hands back the reservation it found (confirmSeats).
 * - A hold is priced from the catalog the worker keeps (./inventory-catalog.ts) and commits blind
 *   only if each shard it takes from keeps a seat; the hold that takes a type's last seats reads
 *   first and flags the sell-out (reserveSeats). Per completed order: one TransactWriteItems to
 *   hold, one UpdateItem to confirm.
 * The reservation id is the order id: one reservation per order, ever.
 */
import { isConditionalCheckFailed, isTransactionConflict } from '../aws/dynamo-errors';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { tryTransactWrite } from '../aws/transactions';
import type { OrderItem, OrderSagaEvent, ReservationStatus } from '../../machines/order-saga/types';
import type { ConfirmSeats, InventoryCommand, ReleaseSeats, ReserveSeats } from './commands';
import { inventoryChanged, nowIso, tellSoldOut, type ParticipantDeps } from './deps';
import {
  blindTakes,
  planTakes,
  readShardAvailability,
  readShards,
  shardCountOf,
  shardKey,
  sumShards,
  takesOf,
  takenColumnOf,
  type ShardState,
} from './inventory-shards';
import { backoff, MAX_ATTEMPTS, putIfAbsent } from './retries';
import { ContentionError, PermanentCommandError, RetryLaterError } from './errors';
import { isMinorUnits } from '../money/money';
import {
  asReservation,
  readInventoryRows,
  readReservation,
  type InventoryRow,
  type ReservationRecord,
  type ReservedItem,
  type ShardTake,
} from './records';
import { isList } from './untrusted-input';
import type { CatalogEntry } from './inventory-catalog';

/** A transaction holds at most 100 items: the reservation plus one update per ticket type. */
export const MAX_TICKET_TYPES_PER_RESERVATION = 99;

export async function handleInventoryCommand(cmd: InventoryCommand, deps: ParticipantDeps): Promise<OrderSagaEvent> {
  switch (cmd.kind) {
    case 'ReserveSeats':
      return reserveSeats(cmd, deps);
    case 'ConfirmSeats':
      return confirmSeats(cmd, deps);
    case 'ReleaseSeats':
      return releaseSeats(cmd, deps);
  }
}

// ---------------------------------------------------------------------------------------------
// ReserveSeats
// ---------------------------------------------------------------------------------------------

type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Positive integer quantities, one line per ticket type (repeated types are added up). */
export function normaliseItems(items: readonly OrderItem[] | undefined): Checked<OrderItem[]> {
  if (!items || !isList(items) || items.length === 0) return { ok: false, reason: 'no items requested' };
  const byType = new Map<string, number>();
  for (const item of items) {
    if (typeof item?.ticketType !== 'string' || item.ticketType.length === 0) {
      return { ok: false, reason: 'invalid ticket type' };
    }
    if (!Number.isSafeInteger(item.quantity) || item.quantity <= 0) {
      return { ok: false, reason: `invalid quantity for ${item.ticketType}: ${String(item.quantity)}` };
    }
    byType.set(item.ticketType, (byType.get(item.ticketType) ?? 0) + item.quantity);
  }
  if (byType.size > MAX_TICKET_TYPES_PER_RESERVATION) {
    return { ok: false, reason: `too many ticket types (at most ${MAX_TICKET_TYPES_PER_RESERVATION})` };
  }
  return { ok: true, value: [...byType].map(([ticketType, quantity]) => ({ ticketType, quantity })) };
}

interface Quote {
  items: ReservedItem[];
  /** The exact sum of quantity × unit price, in the currency's minor units. */
  amountMinor: number;
  currency: string;
}

/**
 * A ticket type as the reserve prices it: from rows just read (with their seats, which are then
 * judged here), or from the worker's kept catalog (without: the transaction's condition judges them).
 */
type PricedType = CatalogEntry & { availableQuantity?: number };

/** Prices the items from the inventory rows, or says why they cannot be held. */
export function quote(
  eventId: string,
  items: readonly OrderItem[],
  rows: ReadonlyMap<string, PricedType>,
): Checked<Quote> {
  if (rows.size === 0) return { ok: false, reason: `unknown event ${eventId}` };
  let currency: string | undefined;
  let amountMinor = 0;
  const priced: ReservedItem[] = [];
  for (const { ticketType, quantity } of items) {
    const row = rows.get(ticketType);
    if (!row) return { ok: false, reason: `unknown ticket type ${ticketType} for event ${eventId}` };
    if (currency !== undefined && row.currency !== currency) {
      return { ok: false, reason: 'ticket types are priced in different currencies' };
    }
    currency = row.currency;
    // A sharded type's row holds only shard 0: its shards are judged when they are read.
    if (shardCountOf(row) === 1 && row.availableQuantity !== undefined && row.availableQuantity < quantity) {
      return { ok: false, reason: `sold out: ${row.availableQuantity} ${ticketType} left, ${quantity} requested` };
    }
    // Integers all the way: 4 × 267 is 1068, never 10.680000000000001.
    if (!isMinorUnits(row.priceMinor)) return { ok: false, reason: `${ticketType} has no valid price in minor units` };
    amountMinor += row.priceMinor * quantity;
    priced.push({ ticketType, quantity, unitPriceMinor: row.priceMinor });
  }
  if (!Number.isSafeInteger(amountMinor)) return { ok: false, reason: 'the total is too large' };
  return { ok: true, value: { items: priced, amountMinor, currency: currency ?? '' } };
}

/**
 * The event's ticket types: the worker's kept copy unless `read` (deps.catalog, issue 25), else the
 * rows read now (consistent), which are then kept. `rows` is set only when read.
 */
async function catalogOf(
  deps: ParticipantDeps,
  eventId: string,
  read: boolean,
): Promise<{ types: ReadonlyMap<string, PricedType>; rows?: Map<string, InventoryRow> }> {
  const kept = read ? undefined : deps.catalog?.get(eventId);
  if (kept) return { types: kept };
  const rows = await readInventoryRows(deps, eventId);
  deps.catalog?.remember(eventId, rows);
  return { types: rows, rows };
}

/**
 * Holds the seats, in two ways (issue 25):
 * - blind (first): prices from the kept catalog (or the rows, on a miss), one shard per type picked
 *   at random, and a STRICT condition per shard: `available > q`, so the hold commits only if the
 *   shard keeps a seat. Then no type can have sold out with this hold, and it reads nothing after.
 *   One TransactWriteItems when the catalog is kept.
 * - read (after any condition failed on a shard: a shard with q seats or fewer, a moved price, a
 *   stale catalog): the rows and every shard read consistently, a plan from what they hold, and
 *   `available >= q`. Only here can a hold take a type's last seats, so the hold that completes a
 *   sell-out always comes this way and flags it (soldOutAfterTake).
 * Every refusal is decided on rows just read, never on the kept catalog.
 */
async function reserveSeats(cmd: ReserveSeats, deps: ParticipantDeps): Promise<OrderSagaEvent> {
  const log = deps.logger.child({ orderId: cmd.orderId, commandId: cmd.commandId, command: cmd.kind });
  const reservationId = cmd.orderId;
  const items = normaliseItems(cmd.items);
  if (!items.ok) return reject(cmd, items.reason, [], deps);
  if (!Number.isFinite(cmd.holdSeconds) || cmd.holdSeconds <= 0) {
    return reject(cmd, `invalid hold: ${String(cmd.holdSeconds)} seconds`, items.value, deps);
  }
  if (typeof cmd.eventId !== 'string' || cmd.eventId.length === 0) {
    return reject(cmd, 'no event id', items.value, deps);
  }

  const random = deps.random ?? Math.random;
  // After a shard could not cover its part (or keep a seat), read the shards and plan from them.
  let readShardsFirst = false;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { types, rows } = await catalogOf(deps, cmd.eventId, readShardsFirst);
    const priced = quote(cmd.eventId, items.value, types);
    if (!priced.ok) {
      if (!rows) {
        // The kept catalog does not price this order: refuse only on rows read now.
        readShardsFirst = true;
        continue;
      }
      await tellSoldOut(deps, 'soldOut', cmd.eventId, soldOutTypes(items.value, rows));
      return reject(cmd, priced.reason, items.value, deps);
    }
    let takes: ShardTake[];
    let shards: Map<string, ShardState[]> | undefined;
    if (readShardsFirst && rows) {
      const heads = items.value.map((i) => rows.get(i.ticketType)!);
      shards = await readShards(deps, cmd.eventId, heads);
      const plan = planTakes(items.value, shards, random);
      if (!plan.ok) {
        const empty = [...shards].filter(([, s]) => sumShards(s).availableQuantity === 0).map(([t]) => t);
        await tellSoldOut(deps, 'soldOut', cmd.eventId, empty);
        return reject(
          cmd,
          `sold out: ${plan.available} ${plan.ticketType} left, ${plan.requested} requested`,
          items.value,
          deps,
        );
      }
      takes = plan.takes;
    } else {
      takes = blindTakes(items.value, types, random);
    }
    const { amountMinor, currency } = priced.value;
    const unitPriceMinor = new Map(priced.value.items.map((i) => [i.ticketType, i.unitPriceMinor]));
    const now = deps.now?.() ?? new Date();
    const record: ReservationRecord = {
      reservationId,
      orderId: cmd.orderId,
      eventId: cmd.eventId,
      items: priced.value.items,
      shards: takes,
      status: 'ACTIVE',
      expiresAt: new Date(now.getTime() + cmd.holdSeconds * 1000).toISOString(),
      amountMinor,
      currency,
      commandId: cmd.commandId,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    };
    // Blind: the shard must keep a seat (see above); after reading: it may give its last.
    const covers = shards === undefined ? '>' : '>=';
    const race = await tryTransactWrite(deps.doc, [
      {
        Put: {
          TableName: deps.tables.reservations,
          Item: record,
          ConditionExpression: 'attribute_not_exists(reservationId)',
        },
      },
      ...takes.map((take) => ({
        Update: {
          TableName: deps.tables.inventory,
          Key: shardKey(cmd.eventId, take.ticketType, take.shard),
          UpdateExpression:
            'SET #available = #available - :q, #reserved = #reserved + :q, #version = #version + :one, #updatedAt = :now',
          // The price is part of the condition: the amount cannot disagree with the row, whether
          // it was priced from rows just read or from the kept catalog.
          ConditionExpression: `attribute_exists(#eventId) AND #available ${covers} :q AND #priceMinor = :priceMinor AND #currency = :currency`,
          ExpressionAttributeNames: {
            '#eventId': 'eventId',
            '#available': 'availableQuantity',
            '#reserved': 'reservedQuantity',
            '#version': 'version',
            '#updatedAt': 'updatedAt',
            '#priceMinor': 'priceMinor',
            '#currency': 'currency',
          },
          ExpressionAttributeValues: {
            ':q': take.quantity,
            ':one': 1,
            ':now': record.createdAt,
            ':priceMinor': unitPriceMinor.get(take.ticketType),
            ':currency': currency,
          },
        },
      })),
    ]);
    if (race !== null) {
      if (race.kind === 'condition' && race.failedIndexes[0] === 0) {
        // The reservation exists: a duplicate delivery, or a release that came first.
        const existing = await readReservation(deps, reservationId);
        if (existing) return replyToDuplicateReserve(existing, log);
      } else if (race.kind === 'condition') {
        // A shard could not cover its part (or keep a seat), or stock or price moved since the
        // read, or the kept catalog is stale: read the rows and shards and decide again (another
        // shard may have the seats).
        log.debug('reserve lost a race on stock, re-reading', { attempt });
        readShardsFirst = true;
      } else {
        await backoff(deps, attempt);
      }
      continue;
    }
    log.info('seats reserved', {
      reservationId,
      eventId: cmd.eventId,
      amountMinor,
      currency,
      expiresAt: record.expiresAt,
      shards: takes,
    });
    await inventoryChanged(deps, cmd.eventId);
    // Took the last seats: flag them now, so the next order is told 409 sold-out at POST
    // instead of starting a saga that can only fail (docs/api.md). A blind hold left a seat in
    // each shard it took from: nothing to flag, nothing to read.
    if (shards !== undefined && rows !== undefined) {
      await tellSoldOut(deps, 'soldOut', cmd.eventId, await soldOutAfterTake(deps, cmd.eventId, takes, rows, shards));
    }
    return { type: 'SEATS_RESERVED', reservationId, expiresAt: record.expiresAt ?? '', amountMinor, currency };
  }
  throw new ContentionError(`reserve ${reservationId}: still contended after ${MAX_ATTEMPTS} attempts`);
}

/** The unsharded ticket types of an order with no seat left on their row (a sharded one is judged on its shards). */
function soldOutTypes(items: readonly OrderItem[], rows: ReadonlyMap<string, InventoryRow>): string[] {
  return items
    .map((i) => rows.get(i.ticketType))
    .filter((r): r is InventoryRow => r !== undefined && shardCountOf(r) === 1 && r.availableQuantity === 0)
    .map((r) => r.ticketType);
}

/**
 * The ticket types a committed hold of the read way (reserveSeats) left with no seat in any shard.
 * `shards` were read (consistently) before the hold's transaction: their seats less what the hold
 * took are an upper bound on what is left, as concurrent holds only take more (a release that gave
 * seats back meanwhile is seen by the flag's own verify, src/cache/sold-out.ts).
 * - bound 0: sold out for certain, flagged without a read;
 * - bound > 0: another hold may have taken the rest since; read after the commit (consistent), so of
 *   holds racing for the last seats the one that commits last sees 0. Cheap first: only the shards
 *   taken from (one item per take); a sharded type whose taken shards are all empty then has all
 *   its shards read and summed.
 * So a sell-out is always flagged by the hold that completes it (bar a release meanwhile). Nothing
 * is read without flags.
 */
async function soldOutAfterTake(
  deps: ParticipantDeps,
  eventId: string,
  takes: readonly ShardTake[],
  heads: ReadonlyMap<string, InventoryRow>,
  shards: ReadonlyMap<string, readonly ShardState[]>,
): Promise<string[]> {
  if (!deps.soldOut) return [];
  const types = [...new Set(takes.map((t) => t.ticketType))];
  const bound = (type: string): number =>
    sumShards(shards.get(type) ?? []).availableQuantity -
    takes.filter((t) => t.ticketType === type).reduce((a, t) => a + t.quantity, 0);
  const certain = types.filter((t) => bound(t) <= 0);
  const unsure = types.filter((t) => bound(t) > 0);
  if (unsure.length === 0) return certain;
  try {
    const unsureTakes = takes.filter((t) => unsure.includes(t.ticketType));
    const left = await readShardAvailability(deps, eventId, unsureTakes);
    const emptied = unsure.filter((type) =>
      unsureTakes.filter((t) => t.ticketType === type).every((t) => left.get(`${type}|${t.shard}`) === 0),
    );
    const sharded = emptied
      .map((t) => heads.get(t))
      .filter((h): h is InventoryRow => h !== undefined && shardCountOf(h) > 1);
    const all = sharded.length > 0 ? await readShards(deps, eventId, sharded) : new Map<string, ShardState[]>();
    return [
      ...certain,
      ...emptied.filter((t) => {
        const read = all.get(t);
        return read === undefined ? true : sumShards(read).availableQuantity === 0;
      }),
    ];
  } catch (error) {
    // Best effort, like the flag itself: the seats are reserved whatever this read says.
    deps.logger.warn('sold-out check after a reservation failed', { eventId, error });
    return certain;
  }
}

/**
 * Records that this order's reservation holds nothing, so a re-delivered ReserveSeats gives the
 * same answer even after stock came back.
 */
async function reject(
  cmd: ReserveSeats,
  reason: string,
  items: OrderItem[],
  deps: ParticipantDeps,
): Promise<OrderSagaEvent> {
  const log = deps.logger.child({ orderId: cmd.orderId, commandId: cmd.commandId, command: cmd.kind });
  const now = nowIso(deps);
  const record: ReservationRecord = {
    reservationId: cmd.orderId,
    orderId: cmd.orderId,
    eventId: typeof cmd.eventId === 'string' && cmd.eventId.length > 0 ? cmd.eventId : undefined,
    items,
    status: 'REJECTED',
    reason,
    commandId: cmd.commandId,
    createdAt: now,
    updatedAt: now,
  };
  if (await putIfAbsent(deps, deps.tables.reservations, 'reservationId', record)) {
    log.info('seats unavailable', { reservationId: record.reservationId, reason });
    return { type: 'SEATS_UNAVAILABLE', reason };
  }
  const existing = await readReservation(deps, record.reservationId);
  // Reservations are never deleted: a key that was taken a moment ago is still there.
  if (!existing) throw new RetryLaterError(`reservation ${record.reservationId} vanished after a conditional failure`);
  return replyToDuplicateReserve(existing, log);
}

/** The answer the first delivery gave (or would have given), from the recorded reservation. */
function replyToDuplicateReserve(existing: ReservationRecord, log: ParticipantDeps['logger']): OrderSagaEvent {
  log.info('reserve already handled', { reservationId: existing.reservationId, status: existing.status });
  if (existing.status === 'REJECTED') return { type: 'SEATS_UNAVAILABLE', reason: existing.reason ?? 'rejected' };
  if (existing.tombstone) {
    return { type: 'SEATS_UNAVAILABLE', reason: 'reservation was released before it was made' };
  }
  return {
    type: 'SEATS_RESERVED',
    reservationId: existing.reservationId,
    expiresAt: existing.expiresAt ?? '',
    amountMinor: existing.amountMinor ?? 0,
    currency: existing.currency ?? '',
  };
}

// ---------------------------------------------------------------------------------------------
// ConfirmSeats and ReleaseSeats: ACTIVE -> CONFIRMED | RELEASED | EXPIRED
// ---------------------------------------------------------------------------------------------

function requireReservationId(cmd: ConfirmSeats | ReleaseSeats): string {
  if (typeof cmd.reservationId !== 'string' || cmd.reservationId.length === 0) {
    throw new PermanentCommandError('invalid-command', `${cmd.kind} for order ${cmd.orderId} has no reservation id`, {
      commandId: cmd.commandId,
    });
  }
  return cmd.reservationId;
}

/**
 * ACTIVE → CONFIRMED in one conditional UpdateItem, without reading the reservation first (issue 25):
 * the write's condition is the check, and when it fails, DynamoDB hands back the reservation as it
 * was (ReturnValuesOnConditionCheckFailure ALL_OLD), so a duplicate or late confirm is answered from
 * that, exactly as a read would have answered it:
 * - CONFIRMED (a redelivery): SEATS_CONFIRMED again;
 * - RELEASED or EXPIRED (an operator compensated first, or the hold ran out): SEATS_RELEASED;
 * - REJECTED, or missing (a confirm before any reserve: nothing is created): refused as illegal-state.
 */
async function confirmSeats(cmd: ConfirmSeats, deps: ParticipantDeps): Promise<OrderSagaEvent> {
  const log = deps.logger.child({ orderId: cmd.orderId, commandId: cmd.commandId, command: cmd.kind });
  const reservationId = requireReservationId(cmd);
  // Set only for an ACTIVE reservation with no expiry to move (confirmReservation).
  let known: ReservationRecord | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const outcome = await confirmReservation(reservationId, known, deps, attempt);
    if (outcome.kind === 'done') {
      log.info('seats confirmed', { reservationId });
      return { type: 'SEATS_CONFIRMED' };
    }
    if (outcome.kind === 'retry') {
      known = undefined;
      continue;
    }
    const existing = outcome.reservation;
    if (existing?.status === 'CONFIRMED') {
      log.info('seats already confirmed', { reservationId });
      return { type: 'SEATS_CONFIRMED' };
    }
    if (existing?.status === 'RELEASED' || existing?.status === 'EXPIRED') {
      // A stale confirm: an operator compensated the order and its seats went back first. Say
      // what is true; the saga, already releasing or refunding, decides (it ignores it in confirming).
      log.warn('confirm after release: the seats stay released', { reservationId, status: existing.status });
      return { type: 'SEATS_RELEASED' };
    }
    if (existing?.status !== 'ACTIVE') {
      throw new PermanentCommandError(
        'illegal-state',
        `cannot confirm reservation ${reservationId}: it is ${existing ? existing.status : 'missing'}`,
        { reservationId, status: existing?.status ?? null, commandId: cmd.commandId },
      );
    }
    known = existing;
  }
  throw new ContentionError(`confirm ${reservationId}: still contended after ${MAX_ATTEMPTS} attempts`);
}

async function releaseSeats(cmd: ReleaseSeats, deps: ParticipantDeps): Promise<OrderSagaEvent> {
  const log = deps.logger.child({ orderId: cmd.orderId, commandId: cmd.commandId, command: cmd.kind });
  const reservationId = requireReservationId(cmd);
  if (cmd.releaseAs !== 'RELEASED' && cmd.releaseAs !== 'EXPIRED') {
    throw new PermanentCommandError('invalid-command', `invalid releaseAs ${String(cmd.releaseAs)}`, {
      commandId: cmd.commandId,
    });
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const existing = await readReservation(deps, reservationId);
    if (!existing) {
      if (await writeTombstone(cmd, reservationId, deps)) {
        log.warn('release before reserve: tombstone written', { reservationId });
        return { type: 'SEATS_RELEASED' };
      }
      continue;
    }
    switch (existing.status) {
      case 'RELEASED':
      case 'EXPIRED':
      case 'REJECTED':
        log.info('seats already released', { reservationId, status: existing.status });
        return { type: 'SEATS_RELEASED' };
      case 'CONFIRMED': // the saga releases sold seats only when an operator compensates a paid order
      case 'ACTIVE':
        if (existing.status === 'CONFIRMED' && cmd.releaseAs === 'EXPIRED') {
          // An expiry never takes back seats a confirm took (a confirm racing it won): the saga sends
          // one only for a hold that ran out before payment (machines/order-saga/machine.ts), which
          // it then never confirms.
          throw new PermanentCommandError(
            'illegal-state',
            `cannot expire reservation ${reservationId}: it is CONFIRMED (sold seats go back only as RELEASED)`,
            { reservationId, status: existing.status, commandId: cmd.commandId },
          );
        }
        if ((await settle(existing, existing.status, cmd.releaseAs, deps, attempt)) === 'done') {
          log.info('seats released', {
            reservationId,
            eventId: existing.eventId,
            as: cmd.releaseAs,
            was: existing.status,
          });
          return { type: 'SEATS_RELEASED' };
        }
    }
  }
  throw new ContentionError(`release ${reservationId}: still contended after ${MAX_ATTEMPTS} attempts`);
}

/** A RELEASED reservation that never held seats, so a late ReserveSeats holds nothing. */
async function writeTombstone(cmd: ReleaseSeats, reservationId: string, deps: ParticipantDeps): Promise<boolean> {
  const now = nowIso(deps);
  const tombstone: ReservationRecord = {
    reservationId,
    orderId: cmd.orderId,
    items: [],
    status: 'RELEASED',
    tombstone: true,
    commandId: cmd.commandId,
    createdAt: now,
    updatedAt: now,
    releasedAt: now,
  };
  // false: the reservation appeared meanwhile; the caller re-reads it.
  return putIfAbsent(deps, deps.tables.reservations, 'reservationId', tombstone);
}

/**
 * One transaction: the reservation from its status (ACTIVE, or CONFIRMED when sold seats go back)
 * to `to`, conditioned on still having that status, and its seats moved out of the column that
 * counts them (takenColumnOf) back to availableQuantity. The condition on the status is what makes
 * a release and a confirm exclusive: a hold the confirm took is CONFIRMED, so a late expiry fails here
 * and re-reads. 'retry' means the state moved or the write conflicted: re-read and decide again.
 */
async function settle(
  reservation: ReservationRecord,
  from: Extract<ReservationStatus, 'ACTIVE' | 'CONFIRMED'>,
  to: Extract<ReservationStatus, 'RELEASED' | 'EXPIRED'>,
  deps: ParticipantDeps,
  attempt: number,
): Promise<'done' | 'retry'> {
  const now = nowIso(deps);
  const source = takenColumnOf(reservation, from);
  const target = 'availableQuantity';
  const eventId = reservation.eventId;
  if (eventId === undefined && reservation.items.length > 0) {
    throw new PermanentCommandError(
      'invariant-broken',
      `reservation ${reservation.reservationId} holds seats but has no event`,
    );
  }
  // The hold ends: its expiry moves to `heldUntil` (records.ts, ReservationRecord.expiresAt).
  const held = from === 'ACTIVE' ? reservation.expiresAt : undefined;
  const stamp = 'releasedAt';
  const race = await tryTransactWrite(deps.doc, [
    {
      Update: {
        TableName: deps.tables.reservations,
        Key: { reservationId: reservation.reservationId },
        UpdateExpression:
          `SET #status = :to, #updatedAt = :now, #${stamp} = :now` +
          (held !== undefined ? ', #heldUntil = :held REMOVE #expiresAt' : ''),
        ConditionExpression: '#status = :from',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#updatedAt': 'updatedAt',
          [`#${stamp}`]: stamp,
          ...(held !== undefined ? { '#heldUntil': 'heldUntil', '#expiresAt': 'expiresAt' } : {}),
        },
        ExpressionAttributeValues: {
          ':to': to,
          ':now': now,
          ':from': from,
          ...(held !== undefined ? { ':held': held } : {}),
        },
      },
    },
    ...takesOf(reservation).map((item) => ({
      Update: {
        TableName: deps.tables.inventory,
        Key: shardKey(eventId ?? '', item.ticketType, item.shard),
        UpdateExpression:
          'SET #source = #source - :q, #target = #target + :q, #version = #version + :one, #updatedAt = :now',
        ConditionExpression: '#source >= :q',
        ExpressionAttributeNames: {
          '#source': source,
          '#target': target,
          '#version': 'version',
          '#updatedAt': 'updatedAt',
        },
        ExpressionAttributeValues: { ':q': item.quantity, ':one': 1, ':now': now },
      },
    })),
  ]);
  if (race?.kind === 'condition') {
    if (race.failedIndexes[0] === 0) return 'retry'; // its status moved: re-read
    throw new PermanentCommandError(
      'invariant-broken',
      `reservation ${reservation.reservationId} holds more seats than its ticket types have in ${source}`,
      { reservationId: reservation.reservationId, eventId, codes: race.codes },
    );
  }
  if (race?.kind === 'conflict') {
    await backoff(deps, attempt);
    return 'retry';
  }
  if (eventId !== undefined) {
    await inventoryChanged(deps, eventId);
    await tellSoldOut(deps, 'seatsReturned', eventId, [...new Set(reservation.items.map((i) => i.ticketType))]);
  }
  return 'done';
}

/**
 * What one confirm write did: 'done'; 'found', the condition failed and this is the reservation as
 * it was then (undefined: there is none); 'retry', a release's transaction held the item.
 */
type ConfirmWrite =
  { kind: 'done' } | { kind: 'found'; reservation: ReservationRecord | undefined } | { kind: 'retry' };

/**
 * ACTIVE → CONFIRMED as one conditional UpdateItem on the reservation: the seats stay where the
 * hold put them (taken, `reservedQuantity`), so the shard is not written. Overselling depends only on
 * `availableQuantity`, which a confirm never touched. Exactly one of a confirm and a release/expiry
 * wins: each is conditioned on the reservation still being ACTIVE (the release's transaction moves
 * the seats back only if its condition holds). A crash after the write leaves it CONFIRMED and the
 * redelivery's write finds it so.
 *
 * The hold ends: its expiry moves to `heldUntil`, as in settle (records.ts, ReservationRecord.expiresAt).
 * Blind (`known` undefined), the write moves it itself (`SET heldUntil = expiresAt REMOVE expiresAt`),
 * so it also requires an expiry, which every hold has; an ACTIVE reservation without one comes back
 * as 'found' and is written again as `known`, with nothing to move.
 */
async function confirmReservation(
  reservationId: string,
  known: ReservationRecord | undefined,
  deps: ParticipantDeps,
  attempt: number,
): Promise<ConfirmWrite> {
  const now = nowIso(deps);
  const blind = known === undefined;
  const held = known?.expiresAt;
  const moves = blind || held !== undefined;
  try {
    await deps.doc.send(
      new UpdateCommand({
        TableName: deps.tables.reservations,
        Key: { reservationId },
        UpdateExpression:
          'SET #status = :to, #updatedAt = :now, #confirmedAt = :now, #stay = :true' +
          (blind
            ? ', #heldUntil = #expiresAt REMOVE #expiresAt'
            : held !== undefined
              ? ', #heldUntil = :held REMOVE #expiresAt'
              : ''),
        ConditionExpression: blind ? '#status = :from AND attribute_exists(#expiresAt)' : '#status = :from',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#updatedAt': 'updatedAt',
          '#confirmedAt': 'confirmedAt',
          '#stay': 'seatsStayTaken',
          ...(moves ? { '#heldUntil': 'heldUntil', '#expiresAt': 'expiresAt' } : {}),
        },
        ExpressionAttributeValues: {
          ':to': 'CONFIRMED',
          ':now': now,
          ':from': 'ACTIVE',
          ':true': true,
          ...(held !== undefined ? { ':held': held } : {}),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  } catch (error) {
    if (isConditionalCheckFailed(error)) return { kind: 'found', reservation: reservationAsItWas(error) };
    // A release's transaction on the same reservation in flight: wait, write again, decide again.
    if (isTransactionConflict(error)) {
      await backoff(deps, attempt);
      return { kind: 'retry' };
    }
    throw error;
  }
  // No inventory changed: the view shows available and taken seats, and both stay as they were.
  return { kind: 'done' };
}

/** The item a failed conditional write handed back (ReturnValuesOnConditionCheckFailure ALL_OLD), if any. */
function reservationAsItWas(error: unknown): ReservationRecord | undefined {
  const item = (error as ConditionalCheckFailedException).Item;
  return item ? asReservation(unmarshall(item) as ReservationRecord) : undefined;
}
