/**
 * The saga store's write path as builds before issue 25 had it, for the rollout test only
 * (test/e2e/commit-rollout.test.ts): the order item is the commit. A step is one transaction of
 * the order item (conditional on `sagaVersion`) and the next Events row, without a snapshot; a load
 * reads the order item alone. A verbatim port of that build's SagaStore.load and SagaStore.commit
 * (git show 5b75ab0:src/store/saga-store.ts), behind the runtime's port, so a SagaRuntime over it
 * writes exactly what that build wrote, on the real engines.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { OrderStatus, PersistedSaga, SagaCommand } from '../../machines/order-saga';
import { ConditionFailedError, transactWrite } from '../../src/aws/transactions';
import type { ResourceNames } from '../../src/infra/resources';
import type { SagaRuntimeStore } from '../../src/runtime/ports';
import { unpackOrderItem } from '../../src/store/order-item';
import {
  recordedCommands,
  SagaStore,
  steppedSaga,
  VersionConflictError,
  type OrderRecord,
  type StepRecord,
  type StoredSaga,
  type VersionWait,
} from '../../src/store/saga-store';

export class LegacySagaStore implements SagaRuntimeStore {
  private readonly current: SagaStore;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: ResourceNames['tables'],
  ) {
    this.current = new SagaStore(doc, tables);
  }

  /** The order item alone: that build's load. */
  async load(orderId: string): Promise<StoredSaga | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tables.orders, Key: { orderId }, ConsistentRead: true }),
    );
    return Item ? unpackOrderItem(Item) : undefined;
  }

  /**
   * The create as this build writes it (that build's was one transaction of the order item,
   * Events v1 and the claims; either leaves the same items, bar `created` on the row).
   */
  startCreate(order: OrderRecord, saga: PersistedSaga, step: StepRecord, now: string): Promise<void> {
    return this.current.startCreate(order, saga, step, now);
  }

  finishCreate(
    order: OrderRecord,
    saga: PersistedSaga,
    step: Pick<StepRecord, 'eventId'>,
    now: string,
  ): Promise<StoredSaga> {
    return this.current.finishCreate(order, saga, step, now);
  }

  /** That build's commit: the order item and the Events row in one transaction ('full' format). */
  async append(
    previous: StoredSaga,
    next: { saga: PersistedSaga; status: OrderStatus; commands: SagaCommand[] },
    step: StepRecord,
    now: string,
  ): Promise<StoredSaga> {
    const stored = steppedSaga(previous, next, step, now, 'full');
    try {
      await transactWrite(this.doc, [
        {
          Update: {
            TableName: this.tables.orders,
            Key: { orderId: previous.orderId },
            UpdateExpression:
              'SET saga = :saga, sagaState = :state, #status = :status, sagaVersion = :version, updatedAt = :now, ' +
              'appliedEventIds = :applied, totalAmountMinor = :amount, currency = :currency, ' +
              'stateEnteredAt = :entered REMOVE versionWait',
            ConditionExpression: 'sagaVersion = :previous',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':saga': stored.saga,
              ':state': stored.sagaState,
              ':status': stored.status,
              ':version': stored.sagaVersion,
              ':now': now,
              ':entered': stored.stateEnteredAt,
              ':applied': stored.appliedEventIds,
              ':amount': stored.totalAmountMinor,
              ':currency': stored.currency,
              ':previous': previous.sagaVersion,
            },
          },
        },
        {
          Put: {
            TableName: this.tables.events,
            Item: {
              aggregateId: previous.orderId,
              version: stored.sagaVersion,
              eventType: step.eventType,
              eventId: step.eventId,
              timestamp: now,
              fromState: previous.sagaState,
              toState: next.saga.state,
              payload: step.payload,
              correlationId: previous.correlationId,
              ...(step.actor ? { actor: step.actor } : {}),
              machineVersion: next.saga.machineVersion,
              status: next.status,
              outcome: next.saga.context.outcome,
              commands: recordedCommands(next.commands),
            },
            ConditionExpression: 'attribute_not_exists(version)',
          },
        },
      ]);
    } catch (error) {
      if (error instanceof ConditionFailedError) {
        throw new VersionConflictError(`saga ${previous.orderId} moved past version ${previous.sagaVersion}`);
      }
      throw error;
    }
    return stored;
  }

  /** Nothing to project: that build's commit was the order item. */
  async project(): Promise<boolean> {
    return false;
  }

  markVersionWait(
    saga: StoredSaga,
    wait: Pick<VersionWait, 'machineVersion' | 'knownVersions' | 'eventType'>,
    now: string,
  ): Promise<boolean> {
    return this.current.markVersionWait(saga, wait, now);
  }

  clearVersionWait(saga: StoredSaga): Promise<void> {
    return this.current.clearVersionWait(saga);
  }
}
