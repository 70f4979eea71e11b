/**
 * The safety net behind the messages:
 *  - holds past their expiry (ExpirationIndex, status ACTIVE) get a HOLD_EXPIRED sent into their
 *    saga, in case the timer message was lost. The saga ignores it where it no longer applies.
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
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { assessStuck, OPEN_ORDER_STATUSES } from '../../machines/order-saga';
import type { ResourceNames } from '../infra/resources';
import type { Logger } from '../observability/logger';
import { readExpiredHoldOrderIds } from '../participants/records';
import type { SagaStore, StoredSaga } from '../store/saga-store';
import type { Dispatcher } from './dispatcher';
import { holdExpiredEventId } from './routing';

export interface SweeperDeps {
  doc: DynamoDBDocumentClient;
  tables: ResourceNames['tables'];
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

  private async expireHolds(): Promise<number> {
    const cutoff = new Date(this.now().getTime() - (this.deps.holdGraceMs ?? 5000)).toISOString();
    const orderIds = await readExpiredHoldOrderIds(this.deps, cutoff);
    let sent = 0;
    for (const orderId of orderIds) {
      const saga = await this.deps.store.load(orderId);
      if (!saga || saga.sagaState !== 'awaitingPayment') continue;
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
