/**
 * The safety net behind the messages:
 *  - holds past their expiry get a HOLD_EXPIRED sent into their saga, in case the timer message was
 *    lost. Found through the sagas, not the reservations (TicketReservations has no index since
 *    issue 25 retired ExpirationIndex, ~4 WRU per order): a hold is the saga's to end only while the
 *    saga waits in awaitingPayment (status PROCESSING), and it cannot expire before its saga lived
 *    for the hold's duration (ReserveSeats runs after the create; expiresAt = its time + holdSeconds,
 *    holdSeconds >= 1). So StatusOrdersIndex gives the PROCESSING orders created before
 *    now − grace − the shortest hold, their items are read, and the saga's own context
 *    (reservation.expiresAt, as SEATS_RESERVED reported it) says whether the hold is past due.
 *    The saga ignores a HOLD_EXPIRED where it no longer applies. An ACTIVE hold whose saga ended
 *    (a bug: a Release before its Reserve leaves a tombstone the Reserve cannot pass) is no
 *    saga's to end: the invariant checker reports it (`reservation-status`, tools/invariants.ts).
 *  - sagas stuck under `stalledAfterMs` (the one definition of stuck, machines/order-saga/stuck.ts,
 *    with the sweeper's earlier threshold) get their pending commands re-sent (the
 *    message that would have done it may be gone, e.g. an API process died between its write and
 *    its send). Re-sending is safe: commands are idempotent at every participant. But a command
 *    waiting in a slow queue looks just like a lost one, so re-sends are leased on the saga item
 *    (one worker re-sends) and back off (stalledAfterMs × 2^n, capped): a slow queue must not be
 *    fed a storm of copies that makes it slower still.
 *  - order items (projections) behind their saga's commit (the latest Events row: a worker died
 *    between the commit and the projection update) are rolled forward. The stale scan finds them
 *    (SagaStore.idsInStatusUpdatedBefore: StatusOrdersIndex for the orders of an open status
 *    created before the cutoff, their items read, those not updated since kept): an item behind
 *    keeps the status and `updatedAt` of an earlier step, an open status (a final state takes no
 *    step after it), so it comes up as a stalled candidate of that status once `stalledAfterMs`
 *    passed; the load reads the commit and says the item lags.
 * Every worker may sweep; doing it twice costs requests, never correctness. GSI reads may lag:
 * every candidate is re-read (the commit, strongly consistent) before anything is sent.
 */
import { assessStuck, OPEN_ORDER_STATUSES, orderStatusOf, type OrderStatus } from '../../machines/order-saga';
import { SETTING_RANGES } from '../config/ranges';
import type { Logger } from '../observability/logger';
import type { SagaStore, StoredSaga } from '../store/saga-store';
import type { Dispatcher } from './dispatcher';
import { holdExpiredEventId } from './routing';

export interface SweeperDeps {
  store: SagaStore;
  dispatcher: Dispatcher;
  logger: Logger;
  stalledAfterMs: number;
  intervalMs: number;
  /** Grace after expiresAt before the sweeper steps in for the timer. */
  holdGraceMs?: number;
  now?: () => Date;
}

/** Re-sends back off up to stalledAfterMs × 2^6. */
const MAX_BACKOFF_DOUBLINGS = 6;

/** Default grace (ms) after a hold's expiresAt before the sweeper steps in for its timer. */
export const DEFAULT_HOLD_GRACE_MS = 5000;

/**
 * The shortest hold any saga can have (ms): ReserveSeats requires holdSeconds >= 1
 * (machines/order-saga/schemas.ts), the HOLD_SECONDS minimum (src/config/ranges.ts). Not this
 * worker's HOLD_SECONDS: sagas placed under another setting must be found as soon as theirs expire.
 */
export const SHORTEST_HOLD_MS = SETTING_RANGES.HOLD_SECONDS.min * 1000;

/** The one saga state whose hold a HOLD_EXPIRED ends (the machine ignores it everywhere else). */
const HOLDING_STATE = 'awaitingPayment';
/** Its order status: the StatusOrdersIndex partition the expired-hold scan reads. */
const HOLDING_STATUS: OrderStatus = orderStatusOf(HOLDING_STATE);
/** Orders read per page of the expired-hold scan (one BatchGetItem's worth). */
const HOLD_SCAN_PAGE = 100;

/**
 * Pure: whether the saga waits on a hold that ended before `cutoffMs` (epoch ms), by its own
 * context (reservation.expiresAt, as SEATS_RESERVED reported it). False without a readable expiry.
 */
export function holdExpiredBefore(
  saga: Pick<StoredSaga, 'sagaState'> & { saga: { context: { reservation: { expiresAt: string } | null } } },
  cutoffMs: number,
): boolean {
  if (saga.sagaState !== HOLDING_STATE) return false;
  const expiresAt = Date.parse(saga.saga.context.reservation?.expiresAt ?? '');
  return !Number.isNaN(expiresAt) && expiresAt < cutoffMs;
}

export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private readonly now: () => Date;

  constructor(private readonly deps: SweeperDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  start(): void {
    const tick = () => {
      this.running = this.sweepOnce().catch((error: unknown) =>
        this.deps.logger.warn('sweep failed', { error: String(error) }),
      );
      // Jitter spreads the sweeps of many workers apart.
      this.timer = setTimeout(tick, this.deps.intervalMs * (0.75 + Math.random() / 2));
    };
    this.timer = setTimeout(tick, this.deps.intervalMs * Math.random());
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One sweep: holds expired, stalled outboxes re-sent, projections behind rolled forward (counts). */
  async sweepOnce(): Promise<{ expiredHolds: number; resent: number; rolledForward: number }> {
    const [expiredHolds, { resent, rolledForward }] = await Promise.all([this.expireHolds(), this.resendStalled()]);
    return { expiredHolds, resent, rolledForward };
  }

  /**
   * The order ids of the sagas in awaitingPayment whose hold expired before `cutoffMs` (epoch ms),
   * by their items (strongly consistent BatchGet). StatusOrdersIndex narrows to the orders of
   * status PROCESSING created before cutoff − SHORTEST_HOLD_MS; an index read that may lag, and an
   * item that may lag its commit (rolled forward by the stale scan, then found here): callers load
   * the commit before acting.
   */
  private async expiredHoldCandidates(cutoffMs: number): Promise<string[]> {
    const createdBefore = new Date(cutoffMs - SHORTEST_HOLD_MS).toISOString();
    const ids: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.deps.store.createdInStatus(HOLDING_STATUS, {
        before: createdBefore,
        limit: HOLD_SCAN_PAGE,
        startKey,
      });
      const items = await this.deps.store.loadMany(page.rows.map((row) => row.orderId));
      for (const row of page.rows) {
        const item = items.get(row.orderId);
        if (item && holdExpiredBefore(item, cutoffMs)) ids.push(row.orderId);
      }
      startKey = page.nextKey;
    } while (startKey);
    return ids;
  }

  private async expireHolds(): Promise<number> {
    const cutoffMs = this.now().getTime() - (this.deps.holdGraceMs ?? DEFAULT_HOLD_GRACE_MS);
    const orderIds = await this.expiredHoldCandidates(cutoffMs);
    let sent = 0;
    for (const orderId of orderIds) {
      // The commit decides (the item may lag it): still holding, and the hold past due.
      const saga = await this.deps.store.load(orderId);
      if (!saga || !holdExpiredBefore(saga, cutoffMs)) continue;
      await this.deps.dispatcher.sendSagaEvent(
        orderId,
        holdExpiredEventId(orderId),
        { type: 'HOLD_EXPIRED' },
        saga.correlationId,
      );
      sent++;
    }
    if (sent > 0) this.deps.logger.warn('sweeper expired holds whose timers did not fire', { count: sent });
    return sent;
  }

  private async resendStalled(): Promise<{ resent: number; rolledForward: number }> {
    const cutoff = new Date(this.now().getTime() - this.deps.stalledAfterMs).toISOString();
    let resent = 0;
    let rolledForward = 0;
    for (const status of OPEN_ORDER_STATUSES) {
      const orderIds = await this.deps.store.idsInStatusUpdatedBefore(status, cutoff);
      for (const orderId of orderIds) {
        const saga = await this.deps.store.load(orderId);
        if (saga?.projectedVersion !== undefined && (await this.deps.store.project(saga))) {
          rolledForward++;
          this.deps.logger.warn('rolled forward an order item behind its commit', {
            orderId,
            from: saga.projectedVersion,
            to: saga.sagaVersion,
            state: saga.sagaState,
            correlationId: saga.correlationId,
          });
        }
        // The index only narrows (stateEnteredAt <= updatedAt); the stuck rule of the state decides,
        // on the saga as committed (a projection just rolled forward is judged by its commit too).
        if (
          !saga ||
          (saga.status !== status && saga.projectedVersion === undefined) ||
          saga.updatedAt >= cutoff ||
          !assessStuck(saga, this.now(), this.deps.stalledAfterMs)
        )
          continue;
        // Timers are covered by expireHolds; re-sending them would only stack duplicates.
        const commands = saga.saga.outbox.filter((c) => c.kind !== 'ScheduleHoldExpiry');
        if (commands.length === 0 || !(await this.takeResendLease(saga))) continue;
        await this.deps.dispatcher.sendCommands(commands, saga.correlationId);
        this.deps.logger.warn('re-sent the pending commands of a stalled saga', {
          orderId: saga.orderId,
          state: saga.sagaState,
          commands: commands.map((c) => c.kind),
          correlationId: saga.correlationId,
        });
        resent++;
      }
    }
    return { resent, rolledForward };
  }

  /** Whether this saga is due for a re-send now, and this worker got to do it. */
  private async takeResendLease(saga: StoredSaga): Promise<boolean> {
    const now = this.now();
    const current = saga.resendLease?.version === saga.sagaVersion ? saga.resendLease : undefined;
    const count = current?.count ?? 0;
    const waitMs = this.deps.stalledAfterMs * 2 ** Math.min(count, MAX_BACKOFF_DOUBLINGS);
    const since = Date.parse(current?.at ?? saga.updatedAt);
    if (now.getTime() - since < waitMs) return false;
    return this.deps.store.leaseResend(saga, { version: saga.sagaVersion, count: count + 1, at: now.toISOString() });
  }
}
