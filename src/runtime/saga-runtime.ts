/**
 * The saga runtime: load → decide (pure) → persist (conditional on version) → dispatch.
 * It owns no state between calls; any number of workers and API processes can share the load.
 *
 * Crash safety: the commands of the current state are stored with the snapshot (the outbox).
 * The commit is the step's Events row (SagaStore.append); the order item, a projection, follows
 * (SagaStore.project). A worker that dies after the commit and before the projection or the send
 * leaves its SQS message undeleted; on redelivery the event is recognised as already applied (the
 * load reads the commit), the projection is rolled forward and the outbox is sent again. Steps
 * with no message behind them (a person's request) are rolled forward and re-sent by the sweeper.
 */
import {
  isFinalState,
  accepts,
  applyEvent,
  knownMachineVersions,
  START_VERSION,
  startSaga,
  stepNeedsProjection,
  UnknownMachineVersionError,
  type OrderItem,
  type OrderSagaEvent,
  type SagaCommand,
} from '../../machines/order-saga';
import { PoisonMessageError } from '../messaging/errors';
import {
  isLastVersionWait,
  MachineVersionUnavailableError,
  MachineVersionWaitExhaustedError,
  versionWaitDelayMs,
} from './version-wait';
import type { Logger } from '../observability/logger';
import { appliedBefore } from '../store/order-item';
import { lagsOneUnprojectedStep } from '../store/event-snapshot';
import {
  eventPayload,
  OrderExistsError,
  PAYMENT_TOKEN_REDACTED,
  UnfinishedCreateError,
  VersionConflictError,
  type OrderRecord,
  type StoredSaga,
} from '../store/saga-store';
import { IdempotencyKeyReusedError, sameRequest } from './request-fingerprint';
import type { OrderNumbers } from '../store/order-numbers';
import { answerEventId } from './routing';
import { crashPoint } from '../fault-injection/crash-points';
import type { CommandSender, SagaRuntimeStore } from './ports';
import type { SnapshotCache } from './snapshot-cache';

export interface PlaceOrder {
  orderId: string;
  customerId: string;
  eventId: string;
  items: OrderItem[];
  paymentToken: string;
  correlationId: string;
  requestHash: string;
  /** The event's name, kept on the order. */
  eventName?: string;
}

export type DeliveryOutcome = 'applied' | 'duplicate' | 'ignored';

export { IdempotencyKeyReusedError } from './request-fingerprint';

/**
 * The saga is no longer at the version the caller was shown (an operator's If-Match): nothing was
 * done. `current` is the version found.
 */
export class StaleSagaVersionError extends Error {
  override name = 'StaleSagaVersionError';
  constructor(
    readonly orderId: string,
    readonly expected: number,
    readonly current: number,
  ) {
    super(`saga ${orderId} is at version ${current}, not ${expected}: it moved on since it was shown`);
  }
}

export class UnknownSagaError extends PoisonMessageError {
  override name = 'UnknownSagaError';
}

/** One committed step, for metrics. */
export interface SagaStepRecord {
  from: string;
  to: string;
  /** The order status after the step. */
  status: string;
  /** From loading the saga to its commit (ms), version-conflict retries included. */
  durationMs: number;
  /** How long the saga sat in `from` before this step moved it on (ms); undefined when it stayed. */
  timeInStateMs: number | undefined;
  /** How the order ended (completed, declined, expired, sold-out, ...), once it has. */
  outcome: string | null;
}

/** Told of every saga started and every step committed (observability/metrics.ts). */
export interface SagaObserver {
  started(state: string): void;
  step(record: SagaStepRecord): void;
}

export interface SagaRuntimeDeps {
  /** The saga store (SagaStore on DynamoDB); the runtime needs only this port of it. */
  store: SagaRuntimeStore;
  /** Sends the commands of each step (the Dispatcher on SQS). */
  dispatcher: CommandSender;
  logger: Logger;
  holdSeconds: number;
  /** Gives each new order its number (ET-2026-000123); absent, orders have none. */
  orderNumbers?: OrderNumbers;
  /** The machine version new orders start on (config ORDER_SAGA_START_VERSION; default the registry's). */
  startVersion?: string;
  /**
   * The first wait (ms) for an event of a saga on an unknown machine version (config MACHINE_VERSION_RETRY_SECONDS).
   */
  versionWaitBaseMs?: number;
  now?: () => Date;
  observer?: SagaObserver;
  /** Told after the step that ends a saga (the waiting room frees its place); errors are logged, never thrown. */
  onSagaEnded?: (saga: StoredSaga) => Promise<void>;
  /** The sagas this worker wrote last (./snapshot-cache.ts): a kept copy skips the load, only to commit on. */
  snapshots?: SnapshotCache;
}

const MAX_CONFLICT_RETRIES = 20;

/** One event to apply to one saga, and how (SagaRuntime's deliver, deliverDirect and request). */
interface ApplyOptions {
  orderId: string;
  /** Deduplicates: an id the saga applied before is answered 'duplicate'. */
  eventId: string;
  event: OrderSagaEvent;
  /** Who asked (a customer's cancel, an operator): recorded on the Events row. */
  actor?: string;
  /** Apply only if the saga's current state accepts the event (a person's request); default false. */
  onlyIfAccepted?: boolean;
  /** SQS's receive count of the delivery (1 on the first): sets the wait on an unknown machine version. */
  receiveCount?: number;
  /** Apply only at this saga version, atomically; else StaleSagaVersionError. */
  expectedVersion?: number;
  /** Not from the saga's queue: answer 'queue' if events of the saga wait there (deliverDirect). */
  direct?: boolean;
}

export class SagaRuntime {
  private readonly now: () => Date;

  constructor(private readonly deps: SagaRuntimeDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Starts the saga of a new order. With an id already taken (an Idempotency-Key met again) it
   * returns the existing saga instead, `created` false: whether that is a replay or a key reused
   * for a different request is the caller's rule (src/orders/place-order.ts, with sameRequest).
   * The create is plain writes (SagaStore.create); one that died after its Events row is finished
   * here by the same request (issue 25).
   * @throws IdempotencyKeyReusedError when the id's create was begun by another request and never
   *   finished (nothing of the order is visible, so no saga can be returned).
   */
  async place(order: PlaceOrder): Promise<{ saga: StoredSaga; created: boolean }> {
    const { store, dispatcher, logger, holdSeconds } = this.deps;
    const input = {
      orderId: order.orderId,
      customerId: order.customerId,
      eventId: order.eventId,
      items: order.items,
      paymentToken: order.paymentToken,
      holdSeconds,
    };
    const decision = startSaga(input, this.deps.startVersion ?? START_VERSION);
    let commands = decision.commands;
    const nowDate = this.now();
    const now = nowDate.toISOString();
    // A number is spent even when the order turns out to exist (a replay): numbers may have gaps.
    const orderNumber = this.deps.orderNumbers ? await this.deps.orderNumbers.allocate(nowDate) : undefined;
    const record = (createdAt: string, number: string | undefined): OrderRecord => ({
      orderId: order.orderId,
      customerId: order.customerId,
      eventId: order.eventId,
      items: order.items,
      status: decision.status,
      totalAmountMinor: null,
      currency: null,
      createdAt,
      updatedAt: createdAt,
      correlationId: order.correlationId,
      requestHash: order.requestHash,
      ...(number ? { orderNumber: number } : {}),
      ...(order.eventName ? { eventName: order.eventName } : {}),
    });
    // The number's lookup item, before the order item: a found order is always found by its number.
    const claim = async (number: string | undefined) => {
      if (number && this.deps.orderNumbers) await this.deps.orderNumbers.claim(number, order.orderId);
    };
    const step = {
      eventId: `${order.orderId}:ORDER_PLACED`,
      eventType: 'ORDER_PLACED',
      // The machine's input, so that npm run replay can start the saga again (never the token).
      payload: {
        customerId: order.customerId,
        eventId: order.eventId,
        items: order.items,
        holdSeconds,
        paymentToken: PAYMENT_TOKEN_REDACTED,
      },
    };
    let saga: StoredSaga;
    try {
      try {
        const placed = record(now, orderNumber);
        await store.startCreate(placed, decision.saga, step, now);
        // Died here: an unfinished create, finished by the same request when it comes again.
        crashPoint('create:after-row');
        await claim(orderNumber);
        saga = await store.finishCreate(placed, decision.saga, step, now);
      } catch (error) {
        if (!(error instanceof UnfinishedCreateError)) throw error;
        // An earlier create of this id died after its Events row (nobody was told of the order, no
        // command was sent). The same request finishes it as that create would have: at its time,
        // with its number and its machine version; another request under the key is refused.
        if (!error.created || !sameRequest(error.created.requestHash, order.requestHash))
          throw new IdempotencyKeyReusedError();
        const first =
          error.machineVersion && error.machineVersion !== decision.saga.machineVersion
            ? startSaga(input, error.machineVersion)
            : decision;
        commands = first.commands;
        const number = error.created.orderNumber;
        logger.warn('finishing an unfinished create', { orderId: order.orderId, createdAt: error.createdAt });
        await claim(number);
        saga = await store.finishCreate(
          { ...record(error.createdAt, number), status: first.status },
          first.saga,
          step,
          error.createdAt,
        );
      }
    } catch (error) {
      if (!(error instanceof OrderExistsError)) throw error;
      const existing = await store.load(order.orderId);
      if (!existing) throw error;
      return { saga: existing, created: false };
    }
    logger.info('order placed', { orderId: order.orderId, correlationId: order.correlationId });
    this.deps.observer?.started(saga.sagaState);
    this.deps.snapshots?.remember(saga);
    await dispatcher.sendCommands(commands, order.correlationId);
    return { saga, created: true };
  }

  /**
   * Applies an event that arrived on the saga's FIFO queue. `receiveCount` (SQS's, 1 on the first
   * delivery) sets the wait when the saga runs on a machine version this build lacks.
   * @throws MachineVersionUnavailableError (a RetryLaterError) in that case.
   */
  async deliver(orderId: string, eventId: string, event: OrderSagaEvent, receiveCount = 1): Promise<DeliveryOutcome> {
    const result = await this.apply({ orderId, eventId, event, receiveCount });
    return result.outcome as DeliveryOutcome;
  }

  /**
   * `deliver` for an event that did not come through the saga's FIFO queue (a participant's reply
   * applied where it was made: src/runtime/workers.ts toSaga). Answers 'queue', applying nothing,
   * when events of this saga already wait on that queue (the saga carries a version-wait mark):
   * applied now it would overtake them, so the caller queues it behind them.
   */
  async deliverDirect(orderId: string, eventId: string, event: OrderSagaEvent): Promise<DeliveryOutcome | 'queue'> {
    return (await this.apply({ orderId, eventId, event, direct: true })).outcome;
  }

  /**
   * Applies an event on behalf of a person (a customer's cancel, an operator's action), only if
   * the saga accepts it in its current state. The Events row records who.
   */
  async request(
    orderId: string,
    eventId: string,
    event: OrderSagaEvent,
    actor: string,
    /** Apply only at this version, atomically (the commit is conditional on it); else StaleSagaVersionError. */
    expectedVersion?: number,
  ): Promise<{ accepted: boolean; replayed: boolean; saga: StoredSaga }> {
    const result = await this.apply({ orderId, eventId, event, actor, onlyIfAccepted: true, expectedVersion });
    // replayed: this very request (same event id) was applied before.
    return {
      accepted: result.outcome === 'applied' || result.outcome === 'duplicate',
      replayed: result.outcome === 'duplicate',
      saga: result.saga,
    };
  }

  /** Re-sends the commands the saga waits on (crash recovery, sweeper, operator retry). */
  async resend(saga: StoredSaga): Promise<SagaCommand[]> {
    await this.deps.dispatcher.sendCommands(saga.saga.outbox, saga.correlationId);
    return saga.saga.outbox;
  }

  /** Whether the saga has ended (a final state ignores every event a timer raises). Consistent read. */
  async hasEnded(orderId: string): Promise<boolean> {
    const saga = await this.deps.store.load(orderId);
    return saga !== undefined && isFinalState(saga.sagaState);
  }

  /** Re-sends the outbox but for the command that `answeredEventId` answered (see answerEventId). */
  private async resendExcept(saga: StoredSaga, answeredEventId: string): Promise<void> {
    const commands = saga.saga.outbox.filter((c) => answerEventId(c) !== answeredEventId);
    if (commands.length > 0) await this.deps.dispatcher.sendCommands(commands, saga.correlationId);
  }

  private async apply({
    orderId,
    eventId,
    event,
    actor,
    onlyIfAccepted = false,
    receiveCount = 1,
    expectedVersion,
    direct = false,
  }: ApplyOptions): Promise<{ outcome: DeliveryOutcome | 'queue'; saga: StoredSaga }> {
    const { store, dispatcher, logger } = this.deps;
    const startedAt = Date.now();
    for (let attempt = 1; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
      // The copy this worker wrote last, on the first attempt only (issue 25, decision 4). It is
      // used only to commit on: any other outcome is decided again on an exact read (`continue`).
      const cached = attempt === 1 && expectedVersion === undefined ? this.deps.snapshots?.get(orderId) : undefined;
      const stored = cached ?? (await store.load(orderId));
      if (!stored) throw new UnknownSagaError(`no saga for order ${orderId}`);
      if (expectedVersion !== undefined && stored.sagaVersion !== expectedVersion) {
        throw new StaleSagaVersionError(orderId, expectedVersion, stored.sagaVersion);
      }
      const log = { orderId, eventId, event: event.type, correlationId: stored.correlationId };
      // The order item lags the commit (its writer died before projecting, or is about to): the
      // one who finds it behind rolls it forward, before marks that are conditional on its version.
      // Not when it lags by the one step the machine leaves unprojected (stepNeedsProjection): the
      // step this event makes projects it, and a version-wait mark rolls it forward first (below).
      if (stored.projectedVersion !== undefined && !lagsOneUnprojectedStep(stored)) await this.rollForward(stored);
      if (direct && stored.versionWait) return { outcome: 'queue', saga: stored };

      const applied = appliedBefore(stored, eventId);
      if (applied && cached) continue;
      if (applied) {
        // Applied before. If it was the last step, its sender may have died before sending: send
        // the outbox again, but for the command this event answered (a fired timer re-sent would
        // fire again at once, and its duplicate land here again: a loop).
        if (applied === 'last') await this.resendExcept(stored, eventId);
        logger.debug('duplicate event', log);
        return { outcome: 'duplicate', saga: stored };
      }
      let decision: ReturnType<typeof decide>;
      try {
        decision = decide(stored, event, onlyIfAccepted);
      } catch (error) {
        if (!(error instanceof UnknownMachineVersionError)) throw error;
        if (cached) continue;
        // The mark is conditional on the item holding this version: an item left one step behind
        // (stepNeedsProjection) is brought up first, or the wait would go unlisted.
        if (stored.projectedVersion !== undefined) await this.rollForward(stored);
        // Not poison: a build that knows the version (rolling out, or rolled back) will take it.
        await this.noteVersionWait(stored, error.found, eventId, event.type);
        if (isLastVersionWait(receiveCount))
          throw new MachineVersionWaitExhaustedError(orderId, error.found, receiveCount);
        throw new MachineVersionUnavailableError(
          orderId,
          error.found,
          versionWaitDelayMs(receiveCount, this.deps.versionWaitBaseMs),
          receiveCount,
        );
      }
      // The saga is readable here (again): a mark left by a build that could not read it goes.
      if (stored.versionWait) await store.clearVersionWait(stored);
      if (!decision?.changed && cached) continue;
      if (!decision?.changed) {
        // A late or duplicate reply the state lists is routine; one no state foresaw is worth a look.
        if (decision && !decision.expected) {
          logger.warn('unexpected event ignored: no transition or ignore for it in this state', {
            ...log,
            state: stored.sagaState,
            machineVersion: stored.saga.machineVersion,
          });
        } else logger.debug('event ignored in this state', { ...log, state: stored.sagaState });
        return { outcome: 'ignored', saga: stored };
      }
      let saved: StoredSaga;
      try {
        saved = await store.append(
          stored,
          decision,
          { eventId, eventType: event.type, payload: eventPayload(event), actor },
          this.now().toISOString(),
        );
      } catch (error) {
        if (error instanceof VersionConflictError) {
          this.deps.snapshots?.forget(orderId);
          // Someone else applied first: reload, unless the caller acts only on what it was shown.
          if (expectedVersion !== undefined)
            throw new StaleSagaVersionError(orderId, expectedVersion, expectedVersion + 1);
          continue;
        }
        throw error;
      }
      logger.info('saga step', { ...log, from: stored.sagaState, to: saved.sagaState, version: saved.sagaVersion });
      this.deps.observer?.step({
        from: stored.sagaState,
        to: saved.sagaState,
        status: saved.status,
        durationMs: Date.now() - startedAt,
        timeInStateMs:
          saved.sagaState === stored.sagaState
            ? undefined
            : Date.parse(saved.updatedAt) - Date.parse(stored.stateEnteredAt),
        outcome: saved.saga.context.outcome,
      });
      if (isFinalState(saved.sagaState)) this.deps.snapshots?.forget(orderId);
      else this.deps.snapshots?.remember(saved);
      // Committed. A death here leaves the projection behind and the commands unsent.
      crashPoint(`after-commit:${event.type}`);
      // A step that moves nothing the item's readers need (stepNeedsProjection) leaves it one version
      // behind, on an item that was current: the next step projects it (docs/data-model.md).
      if (stored.projectedVersion !== undefined || stepNeedsProjection(stored.sagaState, saved.sagaState))
        await store
          .project(saved)
          // The step stands; whoever next loads the saga (redelivery, next step, sweeper) rolls it forward.
          .catch((error: unknown) => logger.warn('projection update failed', { ...log, error: String(error) }));
      // Projected. A death here leaves the commands unsent.
      crashPoint(`after-projection:${event.type}`);
      await dispatcher.sendCommands(decision.commands, stored.correlationId);
      if (this.deps.onSagaEnded && isFinalState(saved.sagaState)) {
        await this.deps
          .onSagaEnded(saved)
          .catch((error: unknown) => logger.warn('saga-ended hook failed', { ...log, error }));
      }
      return { outcome: 'applied', saga: saved };
    }
    throw new Error(`saga ${orderId}: gave up after ${MAX_CONFLICT_RETRIES} version conflicts`);
  }

  /** Brings a lagging order item up to the committed saga (SagaStore.project), and says so. */
  private async rollForward(saga: StoredSaga): Promise<void> {
    const moved = await this.deps.store.project(saga);
    if (moved)
      this.deps.logger.info('projection rolled forward', {
        orderId: saga.orderId,
        from: saga.projectedVersion,
        to: saga.sagaVersion,
        correlationId: saga.correlationId,
      });
  }

  /** Marks the saga as waiting on a machine version (for /ops), and says so in the log. */
  private async noteVersionWait(
    stored: StoredSaga,
    version: string,
    eventId: string,
    eventType: string,
  ): Promise<void> {
    const { store, logger } = this.deps;
    logger.warn('unknown machine version: the event waits for a build that knows it', {
      orderId: stored.orderId,
      eventId,
      event: eventType,
      machineVersion: version,
      knownVersions: knownMachineVersions(),
      correlationId: stored.correlationId,
    });
    // Best effort: the wait is already safe (the message stays on its queue); only the listing would miss it.
    await store
      .markVersionWait(
        stored,
        { machineVersion: version, knownVersions: knownMachineVersions(), eventType },
        this.now().toISOString(),
      )
      .catch((error: unknown) =>
        logger.warn('could not record the machine-version wait', { orderId: stored.orderId, error: String(error) }),
      );
  }
}

/**
 * The machine's answer, or null when a person's request is not accepted in this state.
 * @throws UnknownMachineVersionError when the saga runs on a version this build lacks.
 */
function decide(
  stored: StoredSaga,
  event: OrderSagaEvent,
  onlyIfAccepted: boolean,
): ReturnType<typeof applyEvent> | null {
  if (onlyIfAccepted && !accepts(stored.saga, event)) return null;
  return applyEvent(stored.saga, event);
}
