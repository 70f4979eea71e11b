/**
 * Stuck sagas, and what an operator can do about one.
 *
 * A saga is stuck by the one definition beside the machine (machines/order-saga/stuck.ts: a rule
 * per state, judged by assessStuck) under `stuckAfterMs` (config STUCK_AFTER_MS, default 30 s).
 *
 * The listing walks StatusOrdersIndex (stable order, may lag; src/store/order-queries.ts) for the open statuses and
 * re-reads every
 * candidate from the base table before judging it.
 *
 * Operator actions: `retrySaga` re-sends the commands the saga waits on and records an
 * OPERATOR_RETRY Events row (who, why, what was re-sent); `compensateSaga` sends the machine
 * OPERATOR_COMPENSATE, which it accepts in reserving, awaitingPayment and confirming — elsewhere it is
 * refused with the reason.
 */
import { randomUUID } from 'node:crypto';
import {
  assessStuck,
  OPEN_ORDER_STATUSES,
  type OrderSagaState,
  type StuckVerdict,
  type OrderStatus,
  type SagaCommandKind,
} from '../../machines/order-saga';
import { StaleSagaVersionError, UnknownSagaError, type SagaRuntime } from '../runtime/saga-runtime';
import type { OrderQueries } from '../store/order-queries';
import { VersionConflictError, type SagaStore, type StepRecord, type StoredSaga } from '../store/saga-store';

export { assessStuck, DEFAULT_STUCK_AFTER_MS, type StuckCandidate, type StuckVerdict } from '../../machines/order-saga';

export interface StuckSaga {
  orderId: string;
  state: OrderSagaState;
  status: OrderStatus;
  /** How long the saga has been stuck: since its threshold ran out. */
  stuckForMs: number;
  stuckSince: string;
  /** How long the saga has been in its state. */
  inStateForMs: number;
  stateEnteredAt: string;
  updatedAt: string;
  /** The kinds of the commands it waits on (its outbox), what a retry re-sends. */
  pendingCommands: SagaCommandKind[];
  reason: string;
  correlationId: string;
}

export interface StuckListing {
  /** Most stuck first. */
  items: StuckSaga[];
  /** How many open sagas were looked at. */
  scanned: number;
  /** How many of them are stuck (items holds at most the limit asked for). */
  total: number;
  /** The open sagas looked at, by saga state. */
  openByState: Record<string, number>;
  /** True when the scan stopped at its bound (maxScanned): more open sagas may exist, unlooked at. */
  truncated: boolean;
  checkedAt: string;
}

/** One pass over the open sagas. */
export interface OpenSagaScan {
  sagas: StoredSaga[];
  /** Candidates looked at (some may have gone meanwhile). */
  scanned: number;
  truncated: boolean;
  checkedAt: Date;
}

export interface StuckSagasDeps {
  store: SagaStore;
  orders: OrderQueries;
  /** The stuck threshold (ms), STUCK_AFTER_MS. */
  stuckAfterMs: number;
  now?: () => Date;
  /** Most open sagas one listing reads (default 5000). */
  maxScanned?: number;
}

const PAGE = 100;
const READ_CONCURRENCY = 10;

export class StuckSagas {
  private readonly now: () => Date;

  constructor(private readonly deps: StuckSagasDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async list(limit: number): Promise<StuckListing> {
    return this.judge(await this.scanOpen(), limit);
  }

  /**
   * Every open saga, read from the base table (the index may lag), at most `maxScanned`: one pass
   * that the overview shares between the stuck listing and the machine-version waits.
   */
  async scanOpen(): Promise<OpenSagaScan> {
    const maxScanned = this.deps.maxScanned ?? 5000;
    const candidates = new Set<string>();
    let truncated = false;
    for (const status of OPEN_ORDER_STATUSES) {
      let cursor: string | undefined;
      do {
        // Ids only: every candidate is re-read below before it is judged.
        const page = await this.deps.orders.listIdsByStatus(status, PAGE, cursor);
        for (const orderId of page.items) candidates.add(orderId);
        cursor = page.nextCursor ?? undefined;
        if (candidates.size >= maxScanned) {
          truncated = cursor !== undefined || status !== OPEN_ORDER_STATUSES.at(-1);
          break;
        }
      } while (cursor);
      if (candidates.size >= maxScanned) break;
    }

    // The index may lag: judge each candidate by its current item.
    const ids = [...candidates];
    const sagas: StoredSaga[] = [];
    for (let i = 0; i < ids.length; i += READ_CONCURRENCY) {
      const read = await Promise.all(ids.slice(i, i + READ_CONCURRENCY).map((id) => this.deps.store.load(id)));
      for (const saga of read) if (saga) sagas.push(saga);
    }
    return { sagas, scanned: ids.length, truncated, checkedAt: this.now() };
  }

  /** The stuck sagas of a scan, most stuck first, at most `limit` of them. */
  judge(scan: OpenSagaScan, limit: number): StuckListing {
    const now = scan.checkedAt;
    const stuck: StuckSaga[] = [];
    const openByState: Record<string, number> = {};
    for (const saga of scan.sagas) {
      openByState[saga.sagaState] = (openByState[saga.sagaState] ?? 0) + 1;
      const verdict = assessStuck(saga, now, this.deps.stuckAfterMs);
      if (verdict) stuck.push(stuckView(saga, verdict));
    }
    stuck.sort((a, b) => b.stuckForMs - a.stuckForMs || (a.orderId < b.orderId ? -1 : 1));
    return {
      items: stuck.slice(0, limit),
      scanned: scan.scanned,
      total: stuck.length,
      openByState,
      truncated: scan.truncated,
      checkedAt: now.toISOString(),
    };
  }
}

function stuckView(saga: StoredSaga, verdict: StuckVerdict): StuckSaga {
  return {
    orderId: saga.orderId,
    state: saga.sagaState,
    status: saga.status,
    stuckForMs: verdict.stuckForMs,
    stuckSince: verdict.stuckSince,
    inStateForMs: verdict.inStateForMs,
    stateEnteredAt: saga.stateEnteredAt,
    updatedAt: saga.updatedAt,
    pendingCommands: saga.saga.outbox.map((c) => c.kind),
    reason: verdict.reason,
    correlationId: saga.correlationId,
  };
}

// ---------------------------------------------------------------------------------------------
// Operator actions

/** Who asks, and why. `by` is `operator:<id>`. */
export interface OperatorRequest {
  by: string;
  reason: string;
  /**
   * The saga version the operator was shown (If-Match). When set, the action is done only at that
   * version, conditional in the store; a saga that moved on raises StaleSagaVersionError.
   */
  expectedVersion?: number;
}

/** The action is not possible in the saga's current state; `detail` says why and what to do. */
export class OperatorActionRefusedError extends Error {
  override name = 'OperatorActionRefusedError';
  constructor(
    readonly orderId: string,
    readonly state: OrderSagaState,
    readonly status: OrderStatus,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const MAX_CONFLICT_RETRIES = 20;

/**
 * Appends an Events row for an action on the saga (the saga itself unchanged), reloading and
 * trying again when the saga moves meanwhile. `step` sees the current saga; returning null
 * records nothing. Returns the saga as recorded on, or undefined when there is no such saga.
 */
export async function recordOperatorAction(
  store: SagaStore,
  orderId: string,
  step: (saga: StoredSaga) => StepRecord | null,
  now: () => Date = () => new Date(),
  expectedVersion?: number,
): Promise<{ saga: StoredSaga; recorded: boolean } | undefined> {
  for (let attempt = 1; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
    const current = await store.load(orderId);
    if (!current) return undefined;
    if (expectedVersion !== undefined && current.sagaVersion !== expectedVersion) {
      throw new StaleSagaVersionError(orderId, expectedVersion, current.sagaVersion);
    }
    const record = step(current);
    if (!record) return { saga: current, recorded: false };
    try {
      return { saga: await store.recordAction(current, record, now().toISOString()), recorded: true };
    } catch (error) {
      if (error instanceof VersionConflictError) {
        if (expectedVersion !== undefined)
          throw new StaleSagaVersionError(orderId, expectedVersion, expectedVersion + 1);
        continue;
      }
      throw error;
    }
  }
  throw new Error(
    `saga ${orderId}: gave up recording an operator action after ${MAX_CONFLICT_RETRIES} version conflicts`,
  );
}

export interface SagaActionDeps {
  store: SagaStore;
  runtime: SagaRuntime;
  now?: () => Date;
}

/**
 * Re-sends the commands the saga waits on (all of its outbox, the hold timer included: every
 * receiver deduplicates) after recording who asked and why. The row is written first, like a
 * saga step: if the send then fails, the caller sees the error and may retry.
 */
export async function retrySaga(
  deps: SagaActionDeps,
  orderId: string,
  operator: OperatorRequest,
  eventId: string = `operator:${randomUUID()}`,
): Promise<{ saga: StoredSaga; resent: SagaCommandKind[] }> {
  const result = await recordOperatorAction(
    deps.store,
    orderId,
    (saga) => {
      const refusal = retryRefusal(saga);
      if (refusal) throw new OperatorActionRefusedError(orderId, saga.sagaState, saga.status, refusal);
      return {
        eventId,
        eventType: 'OPERATOR_RETRY',
        payload: { by: operator.by, reason: operator.reason, resent: saga.saga.outbox.map((c) => c.kind) },
        actor: operator.by,
      };
    },
    deps.now,
    operator.expectedVersion,
  );
  if (!result) throw new UnknownSagaError(`no saga for order ${orderId}`);
  const resent = await deps.runtime.resend(result.saga);
  return { saga: result.saga, resent: resent.map((c) => c.kind) };
}

/** Pure: why a retry cannot be done on this saga now (it waits on no command), or null when it can. */
export function retryRefusal(saga: Pick<StoredSaga, 'orderId' | 'sagaState' | 'saga'>): string | null {
  return saga.saga.outbox.length === 0
    ? `saga ${saga.orderId} is ${saga.sagaState}: it waits on no command, so there is nothing to retry`
    : null;
}

/** Pure: why OPERATOR_COMPENSATE cannot be applied to this saga now, or null when it can. */
export function compensationRefusal(saga: Pick<StoredSaga, 'orderId' | 'sagaState' | 'saga'>): string | null {
  const { orderId, sagaState: state } = saga;
  const context = saga.saga.context;
  switch (state) {
    case 'reserving':
      if (context.cancelRequested === null) return null;
      return (
        `saga ${orderId} already has a ${context.cancelRequested.by.startsWith('operator:') ? 'compensation' : 'cancel'} ` +
        `requested by ${context.cancelRequested.by}; it is applied as soon as the seats are reserved. If the saga is stuck, use retry`
      );
    case 'awaitingPayment':
    case 'confirming':
      return null;
    case 'notifying':
      return `saga ${orderId} is ${state}: the seats are sold and paid for, only the customer's notification is left, so the order goes ahead. If it is stuck, use retry`;
    case 'releasingSeats':
    case 'settlingPayment':
    case 'refunding':
      return `saga ${orderId} is ${state}: compensation is already under way (outcome ${context.outcome ?? 'pending'}). If it is stuck, use retry`;
    case 'completed':
    case 'cancelled':
    case 'failed':
      return `saga ${orderId} is ${state} (outcome ${context.outcome ?? 'none'}): it has ended, there is nothing to compensate`;
  }
}

/**
 * Forces the compensation path: OPERATOR_COMPENSATE, applied through the runtime like any step
 * (its Events row carries the actor and {by, reason}). In reserving it is remembered and applied
 * once the seats are reserved; in awaitingPayment the seats are released and the charge settled;
 * in confirming (paid, seats perhaps sold already) the seats go back and the capture is refunded.
 */
export async function compensateSaga(
  deps: SagaActionDeps,
  orderId: string,
  operator: OperatorRequest,
  eventId: string = `operator:${randomUUID()}`,
): Promise<StoredSaga> {
  const current = await deps.store.load(orderId);
  if (!current) throw new UnknownSagaError(`no saga for order ${orderId}`);
  if (operator.expectedVersion !== undefined && current.sagaVersion !== operator.expectedVersion) {
    throw new StaleSagaVersionError(orderId, operator.expectedVersion, current.sagaVersion);
  }
  const refusal = compensationRefusal(current);
  if (refusal) throw new OperatorActionRefusedError(orderId, current.sagaState, current.status, refusal);
  const result = await deps.runtime.request(
    orderId,
    eventId,
    { type: 'OPERATOR_COMPENSATE', by: operator.by, reason: operator.reason },
    operator.by,
    operator.expectedVersion,
  );
  if (!result.accepted) {
    // The saga moved between the read and the request.
    const saga = result.saga;
    const detail = compensationRefusal(saga) ?? `saga ${orderId} did not accept the compensation in ${saga.sagaState}`;
    throw new OperatorActionRefusedError(orderId, saga.sagaState, saga.status, detail);
  }
  return result.saga;
}
