/**
 * The saga as an Events row carries it (issue 25: the Events row is the commit), and the exact saga
 * read back from the latest row over the order item (the projection).
 *
 * A step's row holds the snapshot packed as the order item packs it (order-item.ts's packSaga: the
 * order's fixed fields are the item's, written once at the create and never changed), so the row
 * stays small, and without the payment token: tokens never leave the order item (its value is put
 * back from the item on read). Version 1 has no snapshot: the create writes the order item at
 * version 1 in the same transaction. Rows written before issue 25 have none either: those builds
 * wrote the item and the row in one transaction, so their item is exact.
 */
import type { OrderStatus, PersistedSaga, SagaCommand } from '../../machines/order-saga';
import { packSaga, unpackOrderItem, type OrderItemFormat } from './order-item';
import type { StoredSaga } from './stored-saga';

/** What an Events row holds instead of a payment token: tokens never leave the order item. */
export const PAYMENT_TOKEN_REDACTED = '[redacted]';

/** The saga after a step, as its Events row carries it (attribute `snapshot`). */
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

/** The latest Events row as `exactSaga` reads it (a SagaStore Events row). */
export interface LatestEventRow {
  aggregateId: string;
  version: number;
  timestamp: string;
  snapshot?: EventSnapshot;
}

/** The commands with every ChargePayment's token replaced by `token`. */
function withToken(commands: readonly SagaCommand[], token: string): SagaCommand[] {
  return commands.map((c) => (c.kind === 'ChargePayment' ? { ...c, paymentToken: token } : c));
}

/** The snapshot a step's Events row carries for `stored` (the saga after the step). */
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
 * @throws SagaRecordsInconsistentError for a row behind the item, or past it without a snapshot.
 */
export function exactSaga(projected: StoredSaga, latest: LatestEventRow | undefined): StoredSaga {
  if (!latest || latest.version === projected.sagaVersion) return projected;
  if (latest.version < projected.sagaVersion || !latest.snapshot) {
    throw new SagaRecordsInconsistentError(
      `saga ${projected.orderId}: order item at version ${projected.sagaVersion}, latest Events row ` +
        `${latest.version}${latest.snapshot ? '' : ' without a snapshot'}`,
    );
  }
  const snap = latest.snapshot;
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
  };
}

/** The ExpressionAttributeValues of SagaStore.project's update for `saga`, in `format`. */
export function projectionFields(
  saga: StoredSaga,
  format: OrderItemFormat,
  omitsStateEnteredAt: boolean,
): Record<string, unknown> {
  return {
    ':saga': format === 'packed' ? packSaga(saga, saga.saga) : saga.saga,
    ':state': saga.sagaState,
    ':status': saga.status,
    ':version': saga.sagaVersion,
    ':now': saga.updatedAt,
    ...(omitsStateEnteredAt ? {} : { ':entered': saga.stateEnteredAt }),
    ':applied': saga.appliedEventIds,
    ':amount': saga.totalAmountMinor,
    ':currency': saga.currency,
  };
}
