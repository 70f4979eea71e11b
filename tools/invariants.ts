/**
 * The invariant checker: reads every table of a deployment (paginated scans: an offline check) and
 * verifies that seats, sagas, histories, reservations and money agree with each other.
 *
 *   const report = await checkInvariants({ doc, tables }, { stuckAfterMs: 60_000 });
 *   report.ok  // no violation
 *
 * Used by `npm run check` (scripts/check.ts), by the chaos runner (scripts/chaos.ts) and by tests.
 * What each violation kind means is on `ViolationKind`; docs/reliability.md explains why each
 * should hold.
 *
 * A live system has open sagas whose records legitimately run ahead of them (a participant acted,
 * its reply is not applied yet); the per-state rules in ./invariants-rules.ts allow exactly that.
 * Money is balanced over terminal orders only, for the same reason.
 */
import { ScanCommand, type DynamoDBDocumentClient, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  assessStuck,
  DEFAULT_STUCK_AFTER_MS,
  isFinalState,
  isOrderSagaState,
  stuckDeadline,
  type StuckCandidate,
  orderStatusOf,
  type OrderItem,
  type OrderSagaState,
  type OrderStatus,
  type PersistedSaga,
  type ReservationStatus,
} from '../machines/order-saga';
import type { ResourceNames } from '../src/infra/resources';
import { unpackOrderItem } from '../src/store/order-item';
import {
  exactSaga,
  lagsOneUnprojectedStep,
  SagaRecordsInconsistentError,
  type EventSnapshot,
  type RowSaga,
} from '../src/store/event-snapshot';
import type { StoredSaga } from '../src/store/stored-saga';
import type { InventoryRow, PaymentRecord, ReservationRecord } from '../src/participants/records';
import {
  headShardTotal,
  isShardRow,
  shardCountOf,
  takenColumnOf,
  takesOf,
  type ShardRow,
} from '../src/participants/inventory-shards';
import { chargeIdFor, refundIdFor } from '../src/participants/payment';
import { isOwnerClaim } from '../src/participants/event-owner';
import {
  minor,
  PAYMENT_ALLOWED_OPEN,
  RESERVATION_ALLOWED,
  reservationView,
  type PaymentView,
} from './invariants-rules';

export type ViolationKind =
  /**
   * available + reserved + sold ≠ total for a ticket type (per shard: ≠ its shardTotal; shards' totals ≠ the type's
   * total).
   */
  | 'inventory-balance'
  /** A quantity below zero. */
  | 'inventory-negative'
  /** A shard missing or beyond its ticket type's shard count, or a reservation whose shards disagree with its items. */
  | 'inventory-shards'
  /**
   * reservedQuantity (the seats taken) ≠ the seats of the type's ACTIVE reservations plus its
   * CONFIRMED ones whose seats stayed taken (`seatsStayTaken`: confirmed by this build).
   */
  | 'inventory-reserved'
  /** soldQuantity ≠ the seats of the type's CONFIRMED reservations the previous build moved to sold. */
  | 'inventory-sold'
  /** An open saga stuck by the one definition (machines/order-saga/stuck.ts) under stuckAfterMs. */
  | 'saga-stuck'
  /** The order's status, sagaState and snapshot state disagree, or the snapshot is unreadable. */
  | 'saga-status'
  /** A saga's Events versions are not 1..n, or version 1 is not ORDER_PLACED. */
  | 'events-gap'
  /**
   * The order item (the projection) ahead of its history, or behind it at a version whose Events row
   * carries no snapshot (no build writes either: issue 25).
   */
  | 'events-version'
  /** The order item's state or status is not what its history says at the item's version. */
  | 'projection-mismatch'
  /** The order item lags its commit (the latest Events row) for longer than `projectionLagMs`. */
  | 'projection-lag'
  /** One event id applied at two versions: a duplicate delivery applied twice. */
  | 'events-duplicate'
  /** Events rows of an aggregate with no order. */
  | 'events-orphan'
  /** The reservation's status does not fit its order's state or outcome. */
  | 'reservation-status'
  /** A reservation whose order does not exist. */
  | 'reservation-orphan'
  /** A completed (or confirming) order without its capture, or captured for another amount or currency. */
  | 'payment-mismatch'
  /** A cancelled or failed order that still holds money (captured, or a charge still in flight). */
  | 'payment-net-capture'
  /** A refunded payment whose refund is smaller than the capture. */
  | 'refund-mismatch'
  /** A payment whose order does not exist. */
  | 'payment-orphan'
  /** Signs of a second charge: a charge id other than the order's one, or two captures in a history. */
  | 'double-charge'
  /** More refunded than captured, a refund without a capture, or two refunds in a history. */
  | 'over-refund'
  /**
   * Over terminal orders: captured − refunded ≠ the totals of completed orders (reported only when no per-order payment
   * violation explains it).
   */
  | 'money-balance';

export interface Violation {
  kind: ViolationKind;
  /** What is wrong, e.g. `order:<id>`, `inventory:<eventId>/<ticketType>`, `payment:<orderId>`. */
  subject: string;
  detail: string;
}

/** A saga not yet in a final state. */
export interface OpenSaga {
  orderId: string;
  state: string;
  status: string;
  /** Since the order was placed. */
  ageMs: number;
  /** Since the saga last moved (updatedAt). */
  idleMs: number;
  /** The commands it waits on (its outbox). */
  waitingFor: string[];
  /**
   * When it becomes stuck (machines/order-saga/stuck.ts): state entered + stuckAfterMs, or for awaitingPayment hold
   * expiry + stuckAfterMs.
   */
  deadline: string;
  stuck: boolean;
}

/** Sums in minor units (ISO 4217 exponent of their currency), added as integers: exact. */
export interface MoneyTotals {
  /** Sum of captured charges (CAPTURED and REFUNDED payments). */
  captured: number;
  /** Sum of refunds. */
  refunded: number;
  /** Sum of totalAmountMinor over COMPLETED orders. */
  completedTotal: number;
}

export interface InvariantReport {
  ok: boolean;
  checkedAt: string;
  stuckAfterMs: number;
  violations: Violation[];
  open: OpenSaga[];
  counts: {
    orders: Record<string, number>;
    sagaStates: Record<string, number>;
    /** Final sagas by their outcome (completed, sold-out, declined, cancelled, expired, compensated). */
    outcomes: Record<string, number>;
    reservations: Record<string, number>;
    payments: Record<string, number>;
    events: number;
    inventoryRows: number;
    /** Charges the gateway was called for more than once (same idempotent charge id: a resumed charge). */
    resumedCharges: number;
    /**
     * Creates that died after their version-1 Events row, before the order item (issue 25): a lone
     * ORDER_PLACED row and no order. Nobody was told of such an order and no command was sent; the
     * same request finishes it if it comes again (SagaRuntime.place). Not a violation.
     */
    unfinishedCreates: number;
  };
  /** Over every payment, in minor units (summed over currencies: compare within `byCurrency`). */
  money: MoneyTotals & { netCaptured: number; byCurrency: Record<string, MoneyTotals> };
}

export interface InvariantDeps {
  doc: DynamoDBDocumentClient;
  tables: ResourceNames['tables'];
}

export interface InvariantOptions {
  /** An open saga idle longer than this (or that long past its hold) is stuck. Default: DEFAULT_STUCK_AFTER_MS. */
  stuckAfterMs?: number;
  /**
   * How long an order item may lag the commit it has not caught up with (from that commit's
   * timestamp), in ms. Default: twice stuckAfterMs — the sweeper rolls a lagging item forward
   * within STALLED_AFTER_MS + SWEEP_INTERVAL_MS (docs/data-model.md, "The projection").
   */
  projectionLagMs?: number;
  now?: () => Date;
}

/**
 * The checker's default threshold is the service's one definition of stuck (machines/order-saga/stuck.ts,
 * config STUCK_AFTER_MS's default, 30 s): what `npm run check` calls stuck is what GET /ops/sagas/stuck
 * lists. A run after load passes its own (`--stuck-after-ms`; chaos passes its option, 30 s too).
 */
export { DEFAULT_STUCK_AFTER_MS };

/** The attributes of an order item the checker reads. */
interface OrderRow {
  orderId: string;
  status: OrderStatus;
  sagaState: string;
  sagaVersion: number;
  saga?: PersistedSaga;
  items?: OrderItem[];
  /** Minor units. */
  totalAmountMinor?: number | null;
  currency?: string | null;
  createdAt: string;
  updatedAt: string;
  stateEnteredAt?: string;
}

interface EventRow {
  aggregateId: string;
  version: number;
  eventType: string;
  eventId: string;
  timestamp: string;
  toState: string;
  /** Absent on rows of actions that left the saga as it was (before issue 25 they carry none). */
  status?: OrderStatus;
  machineVersion?: string;
  commands?: Array<Record<string, unknown>>;
  saga?: RowSaga;
  snapshot?: EventSnapshot;
  /** On version 1 since issue 25: what the create recorded (SagaStore.startCreate). */
  created?: { requestHash: string; orderNumber?: string };
}

type Item = Record<string, unknown>;

async function scanAll<T>(doc: DynamoDBDocumentClient, input: ScanCommandInput): Promise<T[]> {
  const rows: T[] = [];
  let ExclusiveStartKey: ScanCommandInput['ExclusiveStartKey'];
  do {
    const page = await doc.send(new ScanCommand({ ...input, ConsistentRead: true, ExclusiveStartKey }));
    rows.push(...((page.Items ?? []) as T[]));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return rows;
}

function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

/** Reads every table and checks every invariant. Never writes. */
export async function checkInvariants(deps: InvariantDeps, options: InvariantOptions = {}): Promise<InvariantReport> {
  const now = (options.now ?? (() => new Date()))();
  const stuckAfterMs = options.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS;
  const { doc, tables } = deps;
  const projectionLagMs = options.projectionLagMs ?? 2 * stuckAfterMs;

  const [orders, events, inventory, reservations, payments] = await Promise.all([
    // Read as the saga store reads them: the item leaves out what it holds twice (store/order-item.ts).
    scanAll<Item>(doc, { TableName: tables.orders }).then((rows) =>
      rows.map((row) => unpackOrderItem(row) as unknown as OrderRow & Item),
    ),
    scanAll<EventRow>(doc, {
      TableName: tables.events,
      ProjectionExpression: '#a, #v, #t, #e, #ts, #to, #s, #mv, #c, #sg, #snap, #created',
      ExpressionAttributeNames: {
        '#a': 'aggregateId',
        '#v': 'version',
        '#t': 'eventType',
        '#e': 'eventId',
        '#ts': 'timestamp',
        '#to': 'toState',
        '#s': 'status',
        '#mv': 'machineVersion',
        '#c': 'commands',
        '#sg': 'saga',
        '#snap': 'snapshot',
        '#created': 'created',
      },
    }),
    // Event owner claims (src/participants/event-owner.ts) share the table; they hold no seats.
    scanAll<InventoryRow | ShardRow>(doc, { TableName: tables.inventory }).then((rows) =>
      rows.filter((row) => !isOwnerClaim(row)),
    ),
    scanAll<ReservationRecord>(doc, { TableName: tables.reservations }),
    scanAll<PaymentRecord>(doc, { TableName: tables.payments }),
  ]);

  const violations: Violation[] = [];
  const flag = (kind: ViolationKind, subject: string, detail: string): void => {
    violations.push({ kind, subject, detail });
  };

  const ordersById = new Map(orders.map((o) => [o.orderId, o]));
  const reservationsByOrder = new Map(reservations.map((r) => [r.orderId ?? r.reservationId, r]));
  const paymentsByOrder = new Map(payments.map((p) => [p.orderId, p]));
  const eventsByOrder = new Map<string, EventRow[]>();
  for (const e of events) {
    const list = eventsByOrder.get(e.aggregateId);
    if (list) list.push(e);
    else eventsByOrder.set(e.aggregateId, [e]);
  }

  const counts: InvariantReport['counts'] = {
    orders: {},
    sagaStates: {},
    outcomes: {},
    reservations: {},
    payments: {},
    events: events.length,
    inventoryRows: inventory.length,
    resumedCharges: 0,
    unfinishedCreates: 0,
  };
  for (const r of reservations) bump(counts.reservations, r.tombstone ? `${r.status} (tombstone)` : r.status);
  for (const p of payments) {
    bump(counts.payments, p.status);
    if ((p.attempts ?? 0) > 1) counts.resumedCharges++;
  }

  // ---- inventory ------------------------------------------------------------------------------
  checkInventory(inventory, reservations, flag);

  // ---- orders, sagas, histories, reservations, payments ---------------------------------------
  const open: OpenSaga[] = [];
  let paymentViolations = 0;
  const countPayment = (kind: ViolationKind, subject: string, detail: string): void => {
    paymentViolations++;
    flag(kind, subject, detail);
  };

  const committed: Array<OrderRow & Item> = [];
  for (const projected of orders) {
    const subject = `order:${projected.orderId}`;
    const history = eventsByOrder.get(projected.orderId) ?? [];
    // The saga as committed (issue 25): its latest Events row over its order item. Every rule
    // below judges the commit; the item, a projection, is judged against the history here.
    const order = committedOrder(projected, history, now, projectionLagMs, flag);
    committed.push(order);
    bump(counts.orders, order.status);
    bump(counts.sagaStates, order.sagaState);
    const state = order.sagaState;
    if (!isOrderSagaState(state)) {
      flag('saga-status', subject, `unknown saga state ${JSON.stringify(state)}`);
      continue;
    }
    const snapshotState = order.saga?.state;
    if (snapshotState !== state) {
      flag('saga-status', subject, `sagaState ${state} but the snapshot is in ${String(snapshotState)}`);
    }
    if (orderStatusOf(state) !== order.status) {
      flag('saga-status', subject, `state ${state} maps to ${orderStatusOf(state)}, the order says ${order.status}`);
    }
    const outcome = order.saga?.context?.outcome ?? null;
    if (isFinalState(state)) bump(counts.outcomes, outcome ?? 'none');
    else open.push(openSaga(order, state, now, stuckAfterMs, reservationsByOrder.get(order.orderId)));

    checkHistory(order, history, flag, countPayment);
    checkReservation(order, state, outcome, reservationsByOrder.get(order.orderId), flag);
    checkPayment(order, state, paymentsByOrder.get(order.orderId), countPayment);
  }

  for (const saga of open) {
    if (saga.stuck) {
      flag(
        'saga-stuck',
        `order:${saga.orderId}`,
        `in ${saga.state} for ${Math.round(saga.idleMs / 1000)} s (deadline ${saga.deadline}), waiting for ${saga.waitingFor.join(', ') || 'nothing'}`,
      );
    }
  }
  for (const [aggregateId, rows] of eventsByOrder) {
    if (ordersById.has(aggregateId)) continue;
    const [only] = rows;
    if (rows.length === 1 && only && only.version === 1 && only.eventType === 'ORDER_PLACED' && only.created)
      counts.unfinishedCreates++;
    else flag('events-orphan', `events:${aggregateId}`, `${rows.length} Events row(s) but no order`);
  }
  for (const r of reservations) {
    if (!ordersById.has(r.orderId ?? r.reservationId)) {
      flag('reservation-orphan', `reservation:${r.reservationId}`, `${r.status} reservation of a missing order`);
    }
  }
  for (const p of payments) {
    if (!ordersById.has(p.orderId))
      countPayment('payment-orphan', `payment:${p.orderId}`, `${p.status} payment of a missing order`);
  }

  // ---- money ----------------------------------------------------------------------------------
  const money = moneyTotals(committed, payments);
  const terminal = new Set(committed.filter((o) => isFinalState(o.sagaState)).map((o) => o.orderId));
  let netTerminal = 0;
  for (const p of payments) {
    if (!terminal.has(p.orderId)) continue;
    if (p.status === 'CAPTURED' || p.status === 'REFUNDED') netTerminal += minor(p.amountMinor);
    if (p.status === 'REFUNDED') netTerminal -= minor(p.refundedAmountMinor);
  }
  const completedMinor = committed
    .filter((o) => o.status === 'COMPLETED')
    .reduce((sum, o) => sum + minor(o.totalAmountMinor), 0);
  if (netTerminal !== completedMinor && paymentViolations === 0) {
    flag(
      'money-balance',
      'money',
      `over terminal orders captured − refunded = ${netTerminal}, completed orders total ${completedMinor} (minor units)`,
    );
  }

  open.sort((a, b) => b.idleMs - a.idleMs);
  return { ok: violations.length === 0, checkedAt: now.toISOString(), stuckAfterMs, violations, open, counts, money };
}

type Flag = (kind: ViolationKind, subject: string, detail: string) => void;

/** The inventory rules alone (per shard and per ticket type), over rows and reservations already read. */
export function inventoryViolations(
  inventory: Array<InventoryRow | ShardRow>,
  reservations: ReservationRecord[],
): Violation[] {
  const violations: Violation[] = [];
  checkInventory(inventory, reservations, (kind, subject, detail) => violations.push({ kind, subject, detail }));
  return violations;
}

function checkInventory(
  inventory: Array<InventoryRow | ShardRow>,
  reservations: ReservationRecord[],
  flag: Flag,
): void {
  // One entry per shard: shard 0 is the ticket type's row, shard k >= 1 a row of its own
  // (src/participants/inventory-shards.ts). An unsharded type is its shard 0, subject unchanged.
  const typeKey = (eventId: string, ticketType: string) => `${eventId}/${ticketType}`;
  const key = (eventId: string, ticketType: string, shard: number) =>
    `${typeKey(eventId, ticketType)}${shard === 0 ? '' : `#${shard}`}`;
  const held = new Map<string, { reserved: number; sold: number }>();
  for (const r of reservations) {
    if ((r.status !== 'ACTIVE' && r.status !== 'CONFIRMED') || r.tombstone) continue;
    const takes = takesOf({ shards: r.shards, items: r.items ?? [] });
    if (itemsKey(takes) !== itemsKey(r.items ?? [])) {
      flag(
        'inventory-shards',
        `reservation:${r.reservationId}`,
        `its shards hold ${itemsKey(takes)}, its items say ${itemsKey(r.items ?? [])}`,
      );
    }
    for (const take of takes) {
      const k = key(r.eventId ?? '', take.ticketType, take.shard);
      const entry = held.get(k) ?? { reserved: 0, sold: 0 };
      // The column the seats are counted in (src/participants/inventory.ts, takenColumnOf): holds,
      // and sales confirmed by this build, in reservedQuantity (the seats taken); sales the
      // previous build confirmed in soldQuantity.
      if (takenColumnOf(r, r.status) === 'reservedQuantity') entry.reserved += take.quantity;
      else entry.sold += take.quantity;
      held.set(k, entry);
    }
  }
  const heads = new Map<string, InventoryRow>();
  const shardTotals = new Map<string, number>();
  const seen = new Set<string>();
  for (const row of inventory) {
    const sharded = isShardRow(row);
    const eventId = sharded ? row.shardOf : row.eventId;
    const shard = sharded ? row.shard : 0;
    const k = key(eventId, row.ticketType, shard);
    seen.add(k);
    if (!sharded) heads.set(typeKey(eventId, row.ticketType), row);
    const shardTotal = sharded ? row.shardTotal : headShardTotal(row);
    shardTotals.set(
      typeKey(eventId, row.ticketType),
      (shardTotals.get(typeKey(eventId, row.ticketType)) ?? 0) + shardTotal,
    );
    const subject = `inventory:${k}`;
    const { availableQuantity: available, reservedQuantity: reserved, soldQuantity: sold } = row;
    const quantities = sharded
      ? { shardTotal, availableQuantity: available, reservedQuantity: reserved, soldQuantity: sold }
      : {
          totalQuantity: row.totalQuantity,
          availableQuantity: available,
          reservedQuantity: reserved,
          soldQuantity: sold,
        };
    const negatives = Object.entries(quantities)
      .filter(([, v]) => typeof v !== 'number' || v < 0)
      .map(([name, v]) => `${name} = ${String(v)}`);
    if (negatives.length > 0) flag('inventory-negative', subject, negatives.join(', '));
    if (available + reserved + sold !== shardTotal) {
      flag(
        'inventory-balance',
        subject,
        `available ${available} + reserved ${reserved} + sold ${sold} = ${available + reserved + sold} ≠ ${sharded || shardCountOf(row) > 1 ? 'shard total' : 'total'} ${shardTotal}`,
      );
    }
    const expected = held.get(k) ?? { reserved: 0, sold: 0 };
    if (reserved !== expected.reserved) {
      flag(
        'inventory-reserved',
        subject,
        `reservedQuantity (seats taken) ${reserved}, ACTIVE reservations and CONFIRMED ones that stayed taken hold ${expected.reserved}`,
      );
    }
    if (sold !== expected.sold) {
      flag(
        'inventory-sold',
        subject,
        `soldQuantity ${sold}, CONFIRMED reservations of the previous build (moved to sold) hold ${expected.sold}`,
      );
    }
  }
  // The type's shards: all there, none beyond its count, their seats adding up to its total.
  for (const [tk, head] of heads) {
    const n = shardCountOf(head);
    for (let shard = 1; shard < n; shard++) {
      if (!seen.has(`${tk}#${shard}`))
        flag('inventory-shards', `inventory:${tk}#${shard}`, `shard ${shard} of ${n} is missing`);
    }
    const sum = shardTotals.get(tk) ?? 0;
    if (sum !== head.totalQuantity) {
      flag(
        'inventory-balance',
        `inventory:${tk}`,
        `its shards hold ${sum} seats in total, the ticket type's total is ${head.totalQuantity}`,
      );
    }
  }
  for (const row of inventory) {
    if (!isShardRow(row)) continue;
    const head = heads.get(typeKey(row.shardOf, row.ticketType));
    if (!head || row.shard >= shardCountOf(head) || row.shard < 1) {
      flag(
        'inventory-shards',
        `inventory:${key(row.shardOf, row.ticketType, row.shard)}`,
        `shard ${row.shard} of a ticket type with ${head ? shardCountOf(head) : 'no'} shard(s)`,
      );
    }
  }
  for (const [k, expected] of held) {
    if (seen.has(k)) continue;
    if (expected.reserved > 0)
      flag(
        'inventory-reserved',
        `inventory:${k}`,
        `no inventory row, but ACTIVE reservations hold ${expected.reserved}`,
      );
    if (expected.sold > 0)
      flag('inventory-sold', `inventory:${k}`, `no inventory row, but CONFIRMED reservations hold ${expected.sold}`);
  }
}

function openSaga(
  order: OrderRow,
  state: OrderSagaState,
  now: Date,
  stuckAfterMs: number,
  reservation: ReservationRecord | undefined,
): OpenSaga {
  const updated = Date.parse(order.updatedAt);
  // The one meaning of stuck (machines/order-saga/stuck.ts); the hold from the reservation record
  // when the snapshot has none yet.
  const context = order.saga?.context;
  const expiresAt = context?.reservation?.expiresAt ?? reservation?.expiresAt ?? reservation?.heldUntil;
  const candidate: StuckCandidate = {
    sagaState: state,
    stateEnteredAt: order.stateEnteredAt,
    updatedAt: order.updatedAt,
    saga: {
      outbox: order.saga?.outbox ?? [],
      context: {
        reservation:
          expiresAt === undefined
            ? null
            : { reservationId: '', amountMinor: 0, currency: '', ...context?.reservation, expiresAt },
      },
    },
  };
  const deadline = stuckDeadline(candidate, stuckAfterMs);
  return {
    orderId: order.orderId,
    state,
    status: order.status,
    ageMs: now.getTime() - Date.parse(order.createdAt),
    idleMs: now.getTime() - updated,
    waitingFor: (order.saga?.outbox ?? []).map((c) => c.kind),
    deadline: new Date(deadline !== null && Number.isFinite(deadline) ? deadline : 0).toISOString(),
    stuck: assessStuck(candidate, now, stuckAfterMs) !== null || (deadline !== null && Number.isNaN(deadline)),
  };
}

/**
 * The order as committed: the latest Events row's snapshot over the order item when the item lags,
 * else the item. Flags an item the history does not explain (`projection-mismatch`), one ahead of
 * its history or behind a row without a snapshot (`events-version`), and one behind for longer
 * than `lagMs` since the first commit it misses (`projection-lag`), unless it misses only the one
 * step the machine leaves unprojected (machines/order-saga/projection.ts).
 */
function committedOrder(
  item: OrderRow & Item,
  rows: EventRow[],
  now: Date,
  lagMs: number,
  flag: Flag,
): OrderRow & Item {
  const subject = `order:${item.orderId}`;
  const byVersion = new Map(rows.map((r) => [r.version, r]));
  const at = byVersion.get(item.sagaVersion);
  if (at && (at.toState !== item.sagaState || (at.status !== undefined && at.status !== item.status))) {
    flag(
      'projection-mismatch',
      subject,
      `order item at version ${item.sagaVersion} says ${item.sagaState}/${item.status}, its Events row ` +
        `${at.toState}/${at.status ?? '-'}`,
    );
  }
  const latest = rows.reduce<EventRow | undefined>((a, r) => (a && a.version >= r.version ? a : r), undefined);
  let exact: StoredSaga;
  try {
    exact = exactSaga(item as unknown as StoredSaga, latest);
  } catch (error) {
    if (!(error instanceof SagaRecordsInconsistentError)) throw error;
    flag('events-version', `events:${item.orderId}`, error.message);
    return item;
  }
  // An item one step behind where the machine leaves it so (stepNeedsProjection) is as designed,
  // however long the saga waits there; any other lag is bounded by `lagMs`.
  if (exact.projectedVersion !== undefined && !lagsOneUnprojectedStep(exact)) {
    const missed = byVersion.get(exact.projectedVersion + 1);
    const since = Date.parse(missed?.timestamp ?? latest?.timestamp ?? '');
    if (!(now.getTime() - since <= lagMs)) {
      flag(
        'projection-lag',
        subject,
        `order item at version ${exact.projectedVersion}, committed ${exact.sagaVersion}; behind since ` +
          `${missed?.timestamp ?? '?'} (bound ${Math.round(lagMs / 1000)} s)`,
      );
    }
  }
  return exact as unknown as OrderRow & Item;
}

function checkHistory(order: OrderRow, rows: EventRow[], flag: Flag, countPayment: Flag): void {
  const subject = `events:${order.orderId}`;
  const sorted = [...rows].sort((a, b) => a.version - b.version);
  const versions = sorted.map((r) => r.version);
  const contiguous = versions.every((v, i) => v === i + 1);
  if (sorted.length === 0) flag('events-gap', subject, 'no Events rows');
  else if (!contiguous)
    flag('events-gap', subject, `versions ${compactRanges(versions)} are not 1..${versions.length}`);
  else if (sorted[0].eventType !== 'ORDER_PLACED')
    flag('events-gap', subject, `version 1 is ${sorted[0].eventType}, not ORDER_PLACED`);
  const last = versions.at(-1) ?? 0;
  if (last !== order.sagaVersion)
    flag('events-version', subject, `last Events version ${last}, order sagaVersion ${order.sagaVersion}`);

  const byEventId = new Map<string, number[]>();
  for (const r of sorted) byEventId.set(r.eventId, [...(byEventId.get(r.eventId) ?? []), r.version]);
  for (const [eventId, at] of byEventId) {
    if (at.length > 1) flag('events-duplicate', subject, `event ${eventId} applied at versions ${at.join(', ')}`);
  }
  const captures = sorted.filter((r) => r.eventType === 'PAYMENT_CAPTURED').length;
  const refunds = sorted.filter((r) => r.eventType === 'REFUND_ISSUED').length;
  if (captures > 1)
    countPayment(
      'double-charge',
      `payment:${order.orderId}`,
      `${captures} PAYMENT_CAPTURED steps in the saga's history`,
    );
  if (refunds > 1)
    countPayment('over-refund', `payment:${order.orderId}`, `${refunds} REFUND_ISSUED steps in the saga's history`);
}

function checkReservation(
  order: OrderRow,
  state: OrderSagaState,
  outcome: string | null,
  reservation: ReservationRecord | undefined,
  flag: Flag,
): void {
  const subject = `reservation:${order.orderId}`;
  const view = reservationView(reservation);
  if (!RESERVATION_ALLOWED[state].includes(view)) {
    flag(
      'reservation-status',
      subject,
      `${view === 'NONE' ? 'no reservation' : view} for an order in ${state} (allowed: ${RESERVATION_ALLOWED[state].join(', ')})`,
    );
    return;
  }
  if (!reservation) return;
  // A release is recorded as what the saga asked for: EXPIRED after a hold expiry, RELEASED otherwise.
  if (view === 'RELEASED' || view === 'EXPIRED') {
    const expected: ReservationStatus = outcome === 'expired' ? 'EXPIRED' : 'RELEASED';
    if (view !== expected)
      flag(
        'reservation-status',
        subject,
        `${view} but the saga's outcome is ${String(outcome)} (expected ${expected})`,
      );
  }
  // Seats held or sold are the ones ordered.
  if ((view === 'ACTIVE' || view === 'CONFIRMED') && order.items) {
    const want = itemsKey(order.items);
    const got = itemsKey(reservation.items ?? []);
    if (want !== got) flag('reservation-status', subject, `holds ${got}, the order asks for ${want}`);
  }
}

function itemsKey(items: ReadonlyArray<{ ticketType: string; quantity: number }>): string {
  const byType = new Map<string, number>();
  for (const i of items) byType.set(i.ticketType, (byType.get(i.ticketType) ?? 0) + i.quantity);
  return [...byType]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([t, q]) => `${q}×${t}`)
    .join(' ');
}

function checkPayment(order: OrderRow, state: OrderSagaState, payment: PaymentRecord | undefined, flag: Flag): void {
  const subject = `payment:${order.orderId}`;
  if (payment) {
    const captured = payment.status === 'CAPTURED' || payment.status === 'REFUNDED';
    const chargeId = chargeIdFor(order.orderId);
    if (captured && payment.chargeId !== chargeId) {
      flag(
        'double-charge',
        subject,
        `captured under charge id ${String(payment.chargeId)}, the order's only charge id is ${chargeId}`,
      );
    } else if (payment.chargeId !== undefined && payment.chargeId !== chargeId) {
      flag('double-charge', subject, `charge id ${payment.chargeId} is not the order's charge id ${chargeId}`);
    }
    if (payment.status === 'REFUNDED') {
      if (minor(payment.refundedAmountMinor) > minor(payment.amountMinor)) {
        flag(
          'over-refund',
          subject,
          `refunded ${String(payment.refundedAmountMinor)} of a ${String(payment.amountMinor)} capture (minor units)`,
        );
      }
      if (!payment.capturedAt) flag('over-refund', subject, 'refunded, but no capture is recorded');
      if (payment.refundId !== refundIdFor(order.orderId)) {
        flag(
          'over-refund',
          subject,
          `refund id ${String(payment.refundId)} is not the order's refund id ${refundIdFor(order.orderId)}`,
        );
      }
    }
  }
  const view: PaymentView = payment?.status ?? 'NONE';
  const amount = `${String(payment?.amountMinor)} minor units ${String(payment?.currency)}`;

  if (state === 'completed' || state === 'confirming' || state === 'notifying') {
    // A free order (total 0) skips payment: nothing may be charged, so no payment record at all.
    if (order.totalAmountMinor === 0) {
      if (payment)
        flag('payment-mismatch', subject, `free order in ${state} but a payment is recorded (${view}, ${amount})`);
      return;
    }
    if (payment?.status !== 'CAPTURED') {
      flag('payment-mismatch', subject, `order in ${state} but the payment is ${view}`);
    } else if (
      order.totalAmountMinor === null ||
      order.totalAmountMinor === undefined ||
      minor(payment.amountMinor) !== minor(order.totalAmountMinor) ||
      payment.currency !== order.currency
    ) {
      flag(
        'payment-mismatch',
        subject,
        `captured ${amount}, the order totals ${String(order.totalAmountMinor)} minor units ${String(order.currency)}`,
      );
    }
    return;
  }
  if (state === 'cancelled' || state === 'failed') {
    if (view === 'CAPTURED' || view === 'IN_FLIGHT') {
      flag('payment-net-capture', subject, `order ${order.status} but the payment is ${view} (${amount})`);
    } else if (payment?.status === 'REFUNDED' && minor(payment.refundedAmountMinor) < minor(payment.amountMinor)) {
      flag(
        'refund-mismatch',
        subject,
        `order ${order.status}: refunded ${String(payment.refundedAmountMinor)} of a ${String(payment.amountMinor)} capture (minor units)`,
      );
    }
    return;
  }
  const allowed = PAYMENT_ALLOWED_OPEN[state] ?? [];
  if (!allowed.includes(view)) {
    flag(
      view === 'REFUNDED' ? 'over-refund' : 'payment-mismatch',
      subject,
      `payment ${view} for an order in ${state} (allowed: ${allowed.join(', ')})`,
    );
  }
}

function moneyTotals(orders: OrderRow[], payments: PaymentRecord[]): InvariantReport['money'] {
  const byCurrency: Record<string, MoneyTotals> = {};
  const at = (currency: string | null | undefined): MoneyTotals =>
    (byCurrency[currency ?? '?'] ??= { captured: 0, refunded: 0, completedTotal: 0 });
  for (const p of payments) {
    if (p.status === 'CAPTURED' || p.status === 'REFUNDED') at(p.currency).captured += minor(p.amountMinor);
    if (p.status === 'REFUNDED') at(p.currency).refunded += minor(p.refundedAmountMinor);
  }
  for (const o of orders) if (o.status === 'COMPLETED') at(o.currency).completedTotal += minor(o.totalAmountMinor);
  const total: MoneyTotals = { captured: 0, refunded: 0, completedTotal: 0 };
  for (const t of Object.values(byCurrency)) {
    total.captured += t.captured;
    total.refunded += t.refunded;
    total.completedTotal += t.completedTotal;
  }
  return {
    captured: total.captured,
    refunded: total.refunded,
    netCaptured: total.captured - total.refunded,
    completedTotal: total.completedTotal,
    byCurrency,
  };
}

/** 1,2,3,5,6 → "1-3, 5-6". */
function compactRanges(values: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length; i++) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    parts.push(i === j ? String(values[i]) : `${values[i]}-${values[j]}`);
    i = j;
  }
  return parts.join(', ');
}

/** A few lines for people; the report itself is the JSON. */
export function formatReport(report: InvariantReport, maxViolations = 50): string {
  const line = (counts: Record<string, number>) =>
    Object.entries(counts)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const out = [
    `invariants: ${report.ok ? 'OK' : `${report.violations.length} VIOLATION(S)`} (checked ${report.checkedAt}, stuck after ${report.stuckAfterMs} ms)`,
    `  orders:       ${line(report.counts.orders)}`,
    `  outcomes:     ${line(report.counts.outcomes)}`,
    `  reservations: ${line(report.counts.reservations)}`,
    `  payments:     ${line(report.counts.payments)}${report.counts.resumedCharges ? ` (${report.counts.resumedCharges} resumed charges)` : ''}`,
    ...(report.counts.unfinishedCreates
      ? [`  unfinished creates (never acknowledged, no command sent): ${report.counts.unfinishedCreates}`]
      : []),
    `  events:       ${report.counts.events} rows; inventory rows: ${report.counts.inventoryRows}`,
    `  money:        captured ${report.money.captured}, refunded ${report.money.refunded}, net ${report.money.netCaptured}, completed orders ${report.money.completedTotal}`,
    `  open sagas:   ${report.open.length}${report.open.length ? ` (${report.open.filter((o) => o.stuck).length} stuck)` : ''}`,
  ];
  for (const o of report.open.slice(0, 10)) {
    out.push(
      `    ${o.orderId} ${o.state} idle ${Math.round(o.idleMs / 1000)} s, waiting for ${o.waitingFor.join(', ') || '-'}${o.stuck ? ' STUCK' : ''}`,
    );
  }
  if (report.violations.length > 0) {
    const byKind: Record<string, number> = {};
    for (const v of report.violations) bump(byKind, v.kind);
    out.push(`  violations:   ${line(byKind)}`);
    for (const v of report.violations.slice(0, maxViolations)) out.push(`    [${v.kind}] ${v.subject}: ${v.detail}`);
    if (report.violations.length > maxViolations)
      out.push(`    … ${report.violations.length - maxViolations} more (see --json)`);
  }
  return out.join('\n');
}
