/**
 * What the saga runtime needs of the world, and no more: the saga store (src/store/saga-store.ts
 * implements it on DynamoDB) and a sender of commands (src/runtime/dispatcher.ts, on SQS). Narrow
 * on purpose, so the runtime's branches (conflict, duplicate, version wait, unknown version) are
 * tested without an emulator (test/runtime/saga-runtime-branches.test.ts, with an in-memory store)
 * beside the integration tests on the real engines.
 */
import type { OrderStatus, PersistedSaga, SagaCommand } from '../../machines/order-saga';
import type { OrderRecord, StepRecord, StoredSaga, VersionWait } from '../store/saga-store';

/** The saga store as the runtime uses it. Every method's contract is SagaStore's. */
export interface SagaRuntimeStore {
  /**
   * The saga as committed, strongly consistent, or undefined when there is no such order.
   * `projectedVersion` is set when the order item (the projection) lags the commit.
   */
  load(orderId: string): Promise<StoredSaga | undefined>;
  /**
   * The first write of a new order: its version-1 Events row (the claim of the id). `finishCreate`
   * follows (SagaStore.create is both).
   * @throws OrderExistsError when the order item exists.
   * @throws UnfinishedCreateError when the id's Events row exists without an order item (a create
   *   died between them): finish it with `finishCreate` if it is the same request.
   */
  startCreate(order: OrderRecord, saga: PersistedSaga, step: StepRecord, now: string): Promise<void>;
  /**
   * The last write of a create whose version-1 Events row is written: the order item.
   * @throws OrderExistsError when the order item exists.
   */
  finishCreate(
    order: OrderRecord,
    saga: PersistedSaga,
    step: Pick<StepRecord, 'eventId'>,
    now: string,
  ): Promise<StoredSaga>;
  /**
   * Commits one step on top of `previous`: its Events row at the next version (with the snapshot
   * and outbox), conditional on that version being free. The order item is not touched.
   * @throws VersionConflictError when another writer got there first.
   */
  append(
    previous: StoredSaga,
    next: { saga: PersistedSaga; status: OrderStatus; commands: SagaCommand[] },
    step: StepRecord,
    now: string,
  ): Promise<StoredSaga>;
  /** Brings the order item (the projection) up to `saga`, if it holds an older version; false when it did not. */
  project(saga: StoredSaga): Promise<boolean>;
  /** Marks the saga as waiting on a machine version, if still at the version read; false when it moved. */
  markVersionWait(
    saga: StoredSaga,
    wait: Pick<VersionWait, 'machineVersion' | 'knownVersions' | 'eventType'>,
    now: string,
  ): Promise<boolean>;
  /** Removes the version-wait mark, if the saga is still at the version read. */
  clearVersionWait(saga: StoredSaga): Promise<void>;
}

/** Sends a step's commands to the participants' queues (re-sendable: every receiver deduplicates). */
export interface CommandSender {
  sendCommands(commands: readonly SagaCommand[], correlationId: string): Promise<void>;
}
