/**
 * The saga as an Events row carries it (issue 25: the Events row is the commit), and the exact saga
 * read back from the latest row over the order item (the projection).
 *
 * Two shapes, one reader (`exactSaga`):
 * - `saga` (RowSaga, written since issue 25's size cut): only what the row and the order item do
 *   not already hold, so that a step's row stays under the 1 KB a write is billed by. The state,
 *   machine version, status and outcome are the row's history fields (`toState`, `machineVersion`,
 *   `status`, `outcome`); the outbox is the row's `commands` unless it says otherwise; the order's
 *   fixed fields and the payment token are the item's; the context is packed as a 'compact' item
 *   packs it (order-item.ts's packSaga). Builds before it do not read `saga`: they find no
 *   `snapshot` and refuse a lagging item loudly (SagaRecordsInconsistentError, the message retried)
 *   instead of misreading it.
 * - `snapshot` (EventSnapshot, written by the first build of issue 25): the packed snapshot whole.
 *   Still read.
 * Version 1 has neither: the create writes the order item at version 1 in the same transaction.
 * Rows written before issue 25 have neither either: those builds wrote the item and the row in one
 * transaction, so their item is exact.
 *
 * The row's `commands` (the history) leave out each command's `orderId` and its `commandId` when it
 * is `<orderId>:<kind>` (packRowCommands); `unpackRowCommands` puts them back from `aggregateId`.
 */
import { stepNeedsProjection, type OrderStatus, type PersistedSaga, type SagaCommand } from '../../machines/order-saga';
import {
  itemSaga,
  packCommand,
  packSaga,
  rememberedEventIds,
  unpackCommand,
  unpackOrderItem,
  type OrderItemFormat,
} from './order-item';
import type { StoredSaga } from './stored-saga';

/** What an Events row holds instead of a payment token: tokens never leave the order item. */
export const PAYMENT_TOKEN_REDACTED = '[redacted]';

/** The saga after a step, as the first build of issue 25 wrote it on the row (attribute `snapshot`). */
export interface EventSnapshot {
  /** The persisted snapshot (machine version, state, context, outbox), packed, the payment token redacted. */
  saga: Record<string, unknown>;
  status: OrderStatus;
  stateEnteredAt: string;
  /** The last 25 applied event ids, as the order item remembers them. */
  appliedEventIds: string[];
  /** Minor units of `currency`; null until the seats are priced. */
  totalAmountMinor: number | null;
  currency: string | null;
}

/**
 * The saga after a step as its Events row carries it since issue 25's size cut (attribute `saga`):
 * what neither the row's history fields nor the order item hold.
 */
export interface RowSaga {
  /**
   * The machine context, packed as a 'compact' item packs it (without the order's fields, without
   * null fields) and without the payment token (put back from the order item).
   */
  context: Record<string, unknown>;
  /** Absent when the outbox is the row's `commands` (the step entered a new state); else packed commands. */
  outbox?: Array<Record<string, unknown>>;
  /** When the saga entered its state (ISO-8601); absent when that is the row's `timestamp`. */
  enteredAt?: string;
  /** The last 25 applied event ids, the saga's own as `:<step>` (order-item.ts rememberedEventId). */
  applied: string[];
  /** The order's total, only when it is not the reservation's amount and currency (null: unpriced). */
  total?: { amountMinor: number | null; currency: string | null };
  /** Only on a row without the history's decision fields (an operator's action): the saga's own. */
  machineVersion?: string;
  status?: OrderStatus;
}

/** The latest Events row as `exactSaga` reads it (a SagaStore Events row, or the fields of it read). */
export interface LatestEventRow {
  aggregateId: string;
  version: number;
  timestamp: string;
  toState?: string;
  machineVersion?: string;
  status?: OrderStatus;
  /** As stored: packed (packRowCommands). */
  commands?: Array<Record<string, unknown>>;
  saga?: RowSaga;
  snapshot?: EventSnapshot;
}

/** The commands with every ChargePayment's token replaced by `token`. */
export function withToken<C extends { kind: string }>(commands: readonly C[], token: string): C[] {
  return commands.map((c) => (c.kind === 'ChargePayment' ? { ...c, paymentToken: token } : c));
}

/** The commands as an Events row stores them: the token redacted, without what `orderId` gives back. */
export function packRowCommands(orderId: string, commands: readonly SagaCommand[]): Array<Record<string, unknown>> {
  return withToken(commands, PAYMENT_TOKEN_REDACTED).map((c) => packCommand({ orderId }, c));
}

/** A row's commands whole again (packRowCommands' inverse; whole commands pass through). */
export function unpackRowCommands(
  orderId: string,
  commands: ReadonlyArray<Record<string, unknown>> | undefined,
): SagaCommand[] | undefined {
  return commands?.map((c) => unpackCommand({ orderId }, c));
}

/** JSON with sorted keys, to compare two packed values as DynamoDB gives them back. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );

/**
 * The `saga` a step's Events row carries for `stored` (the saga after the step), given what the
 * row already records: its `commands` (the step's; absent on an operator's action) and whether it
 * records the decision (machineVersion, status: absent on an operator's action).
 */
export function rowSaga(stored: StoredSaga, commands: readonly SagaCommand[] | null): RowSaga {
  // Packed against no total: the reservation keeps its amount and currency, and the total is
  // stored only when it is not theirs.
  const packed = packSaga({ ...stored, totalAmountMinor: null, currency: null }, stored.saga, true);
  const { paymentToken: _token, ...context } = packed.context as Record<string, unknown>;
  const outbox = withToken(stored.saga.outbox, PAYMENT_TOKEN_REDACTED).map((c) => packCommand(stored, c));
  const reservation = stored.saga.context.reservation;
  const totalIsReservation =
    reservation !== null &&
    reservation.amountMinor === stored.totalAmountMinor &&
    reservation.currency === stored.currency;
  const unpriced = reservation === null && stored.totalAmountMinor === null && stored.currency === null;
  return {
    context,
    ...(commands &&
    canonical(outbox) === canonical(withToken(commands, PAYMENT_TOKEN_REDACTED).map((c) => packCommand(stored, c)))
      ? {}
      : { outbox }),
    ...(stored.stateEnteredAt === stored.updatedAt ? {} : { enteredAt: stored.stateEnteredAt }),
    applied: rememberedEventIds(stored.orderId, stored.appliedEventIds, 'compact'),
    ...(totalIsReservation || unpriced
      ? {}
      : { total: { amountMinor: stored.totalAmountMinor, currency: stored.currency } }),
    ...(commands ? {} : { machineVersion: stored.saga.machineVersion, status: stored.status }),
  };
}

/** The snapshot the first build of issue 25 wrote (kept for its reader's tests; no build writes it now). */
export function stepSnapshot(stored: StoredSaga): EventSnapshot {
  const packed = packSaga(stored, stored.saga);
  const context = packed.context as Record<string, unknown>;
  return {
    saga: {
      ...packed,
      context: { ...context, ...('paymentToken' in context ? { paymentToken: PAYMENT_TOKEN_REDACTED } : {}) },
      outbox: withToken(stored.saga.outbox, PAYMENT_TOKEN_REDACTED),
    },
    status: stored.status,
    stateEnteredAt: stored.stateEnteredAt,
    appliedEventIds: stored.appliedEventIds,
    totalAmountMinor: stored.totalAmountMinor,
    currency: stored.currency,
  };
}

/** A row's `saga` as the first build's EventSnapshot (the one shape exactSaga then unpacks). */
function snapshotOf(row: LatestEventRow & { saga: RowSaga }, itemToken: boolean): EventSnapshot {
  const s = row.saga;
  const reservation = s.context.reservation as { amountMinor?: number; currency?: string } | undefined;
  const machineVersion = s.machineVersion ?? row.machineVersion;
  const status = s.status ?? row.status;
  if (machineVersion === undefined || status === undefined || row.toState === undefined)
    throw new SagaRecordsInconsistentError(
      `saga ${row.aggregateId}: Events row ${row.version} has a saga but not its machine version, status or state`,
    );
  return {
    saga: {
      machineVersion,
      state: row.toState,
      // A token is redacted where the item's snapshot holds one (put back by exactSaga).
      context: { ...s.context, ...(itemToken ? { paymentToken: PAYMENT_TOKEN_REDACTED } : {}) },
      outbox: s.outbox ?? row.commands ?? [],
    },
    status,
    stateEnteredAt: s.enteredAt ?? row.timestamp,
    appliedEventIds: s.applied,
    // Without `total`, the order's total is the reservation's (none: unpriced).
    totalAmountMinor: s.total ? s.total.amountMinor : (reservation?.amountMinor ?? null),
    currency: s.total ? s.total.currency : (reservation?.currency ?? null),
  };
}

/** The saga is inconsistent in a way no build writes (an Events row behind its projection, say). */
export class SagaRecordsInconsistentError extends Error {
  override name = 'SagaRecordsInconsistentError';
}

/**
 * The saga as committed, from its order item (`projected`, unpacked) and its latest Events row.
 * - The row at the item's version (or no row): the item is exact, returned as it is.
 * - A row past the item's version, with its snapshot: the item lags the commit; the saga is the
 *   row's snapshot on the item's fixed fields, with `projectedVersion` = the item's version, and
 *   without the item's version-wait mark (a step clears it).
 * - A 'compact' item past version 1 holds no applied event ids: they are the row's at its version.
 * @throws SagaRecordsInconsistentError for a row behind the item, or past it without a snapshot.
 */
export function exactSaga(projected: StoredSaga, latest: LatestEventRow | undefined): StoredSaga {
  if (!latest || latest.version === projected.sagaVersion) return withAppliedIds(projected, latest);
  const hasSnapshot = latest.saga !== undefined || latest.snapshot !== undefined;
  if (latest.version < projected.sagaVersion || !hasSnapshot) {
    throw new SagaRecordsInconsistentError(
      `saga ${projected.orderId}: order item at version ${projected.sagaVersion}, latest Events row ` +
        `${latest.version}${hasSnapshot ? '' : ' without a snapshot'}`,
    );
  }
  const itemContext = projected.saga.context as unknown as Record<string, unknown>;
  const snap = latest.saga
    ? snapshotOf({ ...latest, saga: latest.saga }, 'paymentToken' in itemContext)
    : latest.snapshot!;
  const token = projected.saga.context.paymentToken;
  const packed = snap.saga as unknown as PersistedSaga;
  const { versionWait: _stale, ...fixed } = projected;
  // unpackOrderItem puts back what packSaga left out, from the item's fixed fields and the row's totals.
  const whole = unpackOrderItem({
    ...fixed,
    totalAmountMinor: snap.totalAmountMinor,
    currency: snap.currency,
    saga: {
      ...packed,
      context: { ...packed.context, ...('paymentToken' in packed.context ? { paymentToken: token } : {}) },
      outbox: withToken(packed.outbox, token),
    },
  });
  return {
    ...fixed,
    saga: whole.saga,
    sagaState: whole.saga.state,
    status: snap.status,
    sagaVersion: latest.version,
    updatedAt: latest.timestamp,
    stateEnteredAt: snap.stateEnteredAt,
    appliedEventIds: snap.appliedEventIds,
    totalAmountMinor: snap.totalAmountMinor,
    currency: snap.currency,
    projectedVersion: projected.sagaVersion,
    projectedState: projected.sagaState,
  };
}

/**
 * Whether `saga` (as SagaStore.load reads it) has an order item behind its commit by exactly the
 * one step the machine lets lag (machines/order-saga/projection.ts stepNeedsProjection): a lag the
 * next step or the sweeper resolves, not one to roll forward on sight. False when the item is
 * current, or behind by anything else (its writer died before projecting).
 */
export function lagsOneUnprojectedStep(saga: StoredSaga): boolean {
  return (
    saga.projectedVersion === saga.sagaVersion - 1 &&
    saga.projectedState !== undefined &&
    !stepNeedsProjection(saga.projectedState, saga.sagaState)
  );
}

/**
 * The item with its applied event ids: a 'compact' item past version 1 holds none (a saga has
 * applied at least its ORDER_PLACED), and its Events row at the same version holds them.
 * @throws SagaRecordsInconsistentError when neither does.
 */
function withAppliedIds(item: StoredSaga, row: LatestEventRow | undefined): StoredSaga {
  if (item.appliedEventIds.length > 0) return item;
  const ids = row?.saga?.applied ?? row?.snapshot?.appliedEventIds;
  if (!ids || ids.length === 0)
    throw new SagaRecordsInconsistentError(
      `saga ${item.orderId}: order item at version ${item.sagaVersion} without applied event ids, ` +
        `and no Events row at its version holding them`,
    );
  return { ...item, appliedEventIds: ids };
}

/** Whether the order item leaves the applied event ids to the Events row (format 'compact', past version 1). */
export const idsOnRow = (saga: Pick<StoredSaga, 'sagaVersion'>, format: OrderItemFormat): boolean =>
  format === 'compact' && saga.sagaVersion > 1;

/** The ExpressionAttributeValues of SagaStore.project's update for `saga`, in `format`. */
export function projectionFields(
  saga: StoredSaga,
  format: OrderItemFormat,
  omitsStateEnteredAt: boolean,
): Record<string, unknown> {
  return {
    ':saga': format === 'full' ? saga.saga : itemSaga(saga, format),
    ':state': saga.sagaState,
    ':status': saga.status,
    ':version': saga.sagaVersion,
    ':now': saga.updatedAt,
    ...(omitsStateEnteredAt ? {} : { ':entered': saga.stateEnteredAt }),
    // A saga read from an Events row holds the short ids; the item keeps its format's, or none.
    ...(idsOnRow(saga, format) ? {} : { ':applied': rememberedEventIds(saga.orderId, saga.appliedEventIds, format) }),
    ':amount': saga.totalAmountMinor,
    ':currency': saga.currency,
  };
}
