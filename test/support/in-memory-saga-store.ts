/**
 * An in-memory implementation of the runtime's store port (src/runtime/ports.ts), for the fast
 * test of the runtime's branches only (test/runtime/saga-runtime-branches.test.ts; issue 24 asks
 * for it beside the integration tests, which stay on the real engines). The stored shapes are
 * computed by the store's own functions (createdSaga, steppedSaga), so only the persistence is
 * in memory; the conditions are the store's: create fails on a taken id, append (the commit) is
 * conditional on the next version being free, the projection on holding an older version, and the
 * version-wait mark on the projection's version. `sagas` holds what is committed (the latest
 * Events row), `projections` the order items.
 */
import type { OrderStatus, PersistedSaga, SagaCommand } from '../../machines/order-saga';
import type { CommandSender, SagaRuntimeStore } from '../../src/runtime/ports';
import {
  createdSaga,
  OrderExistsError,
  steppedSaga,
  UnfinishedCreateError,
  VersionConflictError,
  type OrderRecord,
  type StepRecord,
  type StoredSaga,
  type VersionWait,
} from '../../src/store/saga-store';

export class InMemorySagaStore implements SagaRuntimeStore {
  /** The committed sagas (what the latest Events row says). */
  readonly sagas = new Map<string, StoredSaga>();
  /** The order items: the projections, which may lag `sagas`. */
  readonly projections = new Map<string, StoredSaga>();
  private skipProjections = 0;
  /** Every committed step, in order (what the Events table would hold beyond version 1). */
  readonly steps: Array<{ orderId: string; version: number; step: StepRecord }> = [];
  private beforeNextCommit: (() => Promise<void>) | undefined;

  /** Runs `competitor` once, just before the next commit is checked: another writer gets there first. */
  raceNextCommit(competitor: () => Promise<void>): void {
    this.beforeNextCommit = competitor;
  }

  /** The next `count` projections are not written, as if their writer died right after the commit. */
  dropNextProjections(count = 1): void {
    this.skipProjections = count;
  }

  /** Overwrites a stored saga (commit and projection) as another build might have written it. */
  put(saga: StoredSaga): void {
    this.sagas.set(saga.orderId, structuredClone(saga));
    this.projections.set(saga.orderId, structuredClone(saga));
  }

  async load(orderId: string): Promise<StoredSaga | undefined> {
    const saga = this.sagas.get(orderId);
    const item = this.projections.get(orderId);
    if (!saga || !item) return undefined;
    if (item.sagaVersion === saga.sagaVersion) return structuredClone(item);
    // As SagaStore.load: the commit, without the item's version-wait mark, and where the item stands.
    const { versionWait: _stale, ...exact } = structuredClone(saga);
    return { ...exact, projectedVersion: item.sagaVersion, projectedState: item.sagaState };
  }

  /** The ids whose version-1 Events row is written (SagaStore.startCreate), with its request's fingerprint. */
  readonly startedCreates = new Map<string, { requestHash: string; createdAt: string }>();

  async startCreate(order: OrderRecord, _saga: PersistedSaga, _step: StepRecord, now: string): Promise<void> {
    if (this.sagas.has(order.orderId)) throw new OrderExistsError(`order ${order.orderId} exists`);
    const started = this.startedCreates.get(order.orderId);
    if (started)
      throw new UnfinishedCreateError(order.orderId, {
        aggregateId: order.orderId,
        version: 1,
        timestamp: started.createdAt,
        eventType: 'ORDER_PLACED',
        eventId: `${order.orderId}:ORDER_PLACED`,
        fromState: null,
        toState: '',
        payload: {},
        correlationId: order.correlationId,
        created: { requestHash: started.requestHash },
      });
    this.startedCreates.set(order.orderId, { requestHash: order.requestHash, createdAt: now });
  }

  async finishCreate(
    order: OrderRecord,
    saga: PersistedSaga,
    step: Pick<StepRecord, 'eventId'>,
    now: string,
  ): Promise<StoredSaga> {
    if (this.sagas.has(order.orderId)) throw new OrderExistsError(`order ${order.orderId} exists`);
    const stored = createdSaga(order, saga, step, now, 'full');
    this.sagas.set(order.orderId, structuredClone(stored));
    this.projections.set(order.orderId, structuredClone(stored));
    return stored;
  }

  async append(
    previous: StoredSaga,
    next: { saga: PersistedSaga; status: OrderStatus; commands: SagaCommand[] },
    step: StepRecord,
    now: string,
  ): Promise<StoredSaga> {
    const competitor = this.beforeNextCommit;
    this.beforeNextCommit = undefined;
    if (competitor) await competitor();
    if (this.sagas.get(previous.orderId)?.sagaVersion !== previous.sagaVersion) {
      throw new VersionConflictError(`saga ${previous.orderId} moved past version ${previous.sagaVersion}`);
    }
    const stored = steppedSaga(previous, next, step, now, 'full');
    this.sagas.set(previous.orderId, structuredClone(stored));
    this.steps.push({ orderId: previous.orderId, version: stored.sagaVersion, step });
    return stored;
  }

  async project(saga: StoredSaga): Promise<boolean> {
    if (this.skipProjections > 0) {
      this.skipProjections--;
      return false;
    }
    const item = this.projections.get(saga.orderId);
    if (!item || item.sagaVersion >= saga.sagaVersion) return false;
    const {
      projectedVersion: _behind,
      projectedState: _was,
      versionWait: _cleared,
      ...projected
    } = structuredClone(saga);
    this.projections.set(saga.orderId, projected);
    return true;
  }

  async markVersionWait(
    saga: StoredSaga,
    wait: Pick<VersionWait, 'machineVersion' | 'knownVersions' | 'eventType'>,
    now: string,
  ): Promise<boolean> {
    const current = this.projections.get(saga.orderId);
    if (current?.sagaVersion !== saga.sagaVersion) return false;
    const previous = saga.versionWait?.machineVersion === wait.machineVersion ? saga.versionWait : undefined;
    current.versionWait = {
      ...wait,
      since: previous?.since ?? now,
      lastSeenAt: now,
      seen: (previous?.seen ?? 0) + 1,
    };
    return true;
  }

  async clearVersionWait(saga: StoredSaga): Promise<void> {
    const current = this.projections.get(saga.orderId);
    if (current?.sagaVersion === saga.sagaVersion) delete current.versionWait;
  }
}

/** Keeps the commands the runtime sends, in order, instead of putting them on queues. */
export class SentCommands implements CommandSender {
  readonly sent: SagaCommand[] = [];

  async sendCommands(commands: readonly SagaCommand[]): Promise<void> {
    this.sent.push(...commands);
  }

  kinds(): string[] {
    return this.sent.map((c) => c.kind);
  }
}
