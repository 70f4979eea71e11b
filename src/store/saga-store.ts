/**
 * The saga store: a narrow port over DynamoDB. A saga lives on its order's TicketOrders item
 * (snapshot, version, outbox, recent event ids) so that one conditional transaction of two items
 * — the order item and the next Events row — persists a step: snapshot, order status, history.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OrderItem, OrderSagaEvent, OrderStatus, PersistedSaga } from '../../machines/order-saga';
import type { ResourceNames } from '../infra/resources';
import { ConditionFailedError, transactWrite, type TransactItems } from './transactions';

/** How many applied event ids a saga remembers to recognise a redelivery. */
const REMEMBERED_EVENT_IDS = 25;

export interface OrderRecord {
  orderId: string;
  customerId: string;
  eventId: string;
  items: OrderItem[];
  status: OrderStatus;
  totalAmount: number | null;
  currency: string | null;
  createdAt: string;
  updatedAt: string;
  correlationId: string;
  /** Hash of the creating request, to answer an Idempotency-Key replay (or refuse a reuse). */
  requestHash: string;
  /** Human-readable, unique (src/store/order-numbers.ts); absent on orders placed before it existed. */
  orderNumber?: string;
  /** The event's name when the order was placed. */
  eventName?: string;
}

export interface StoredSaga extends OrderRecord {
  sagaState: PersistedSaga['state'];
  sagaVersion: number;
  saga: PersistedSaga;
  appliedEventIds: string[];
  stateEnteredAt: string;
  /** The sweeper's last automatic re-send of this version's outbox (see leaseResend). */
  resendLease?: ResendLease;
}

export interface ResendLease {
  /** The sagaVersion it was taken at: a step that moves the saga makes it stale. */
  version: number;
  /** Re-sends at this version so far. */
  count: number;
  at: string;
}

/** One row of a saga's history. */
export interface SagaHistoryEntry {
  aggregateId: string;
  version: number;
  eventType: string;
  eventId: string;
  timestamp: string;
  fromState: string | null;
  toState: string;
  payload: Record<string, unknown>;
  correlationId: string;
  /** Set for operator actions: who did it. */
  actor?: string;
}

export interface StepRecord {
  eventId: string;
  eventType: string;
  payload: Record<string, unknown>;
  actor?: string;
}

export class VersionConflictError extends Error {
  override name = 'VersionConflictError';
}

export class OrderExistsError extends Error {
  override name = 'OrderExistsError';
}

export class SagaStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: ResourceNames['tables'],
  ) {}

  async load(orderId: string): Promise<StoredSaga | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tables.orders, Key: { orderId }, ConsistentRead: true }));
    return Item as StoredSaga | undefined;
  }

  /**
   * Writes a new order with its saga at version 1, and `claims` (e.g. its order number's lookup
   * item) in the same transaction. Throws OrderExistsError when the id is taken.
   */
  async create(order: OrderRecord, saga: PersistedSaga, step: StepRecord, now: string, claims: TransactItems[number]['Put'][] = []): Promise<StoredSaga> {
    const stored: StoredSaga = {
      ...order,
      sagaState: saga.state,
      sagaVersion: 1,
      saga,
      appliedEventIds: [step.eventId],
      stateEnteredAt: now,
    };
    try {
      await transactWrite(this.doc, [
        { Put: { TableName: this.tables.orders, Item: stored, ConditionExpression: 'attribute_not_exists(orderId)' } },
        { Put: this.historyPut(stored.orderId, 1, null, saga.state, step, order.correlationId, now) },
        ...claims.map((Put) => ({ Put })),
      ]);
    } catch (error) {
      if (error instanceof ConditionFailedError) throw new OrderExistsError(`order ${order.orderId} exists`);
      throw error;
    }
    return stored;
  }

  /**
   * Persists one step on top of `previous`, conditional on its version: the snapshot, the order
   * status and the next Events row, atomically. Throws VersionConflictError when another writer
   * got there first (reload and re-apply; never overwrite).
   */
  async commit(previous: StoredSaga, next: { saga: PersistedSaga; status: OrderStatus }, step: StepRecord, now: string): Promise<StoredSaga> {
    const version = previous.sagaVersion + 1;
    const stateChanged = next.saga.state !== previous.sagaState;
    const stored: StoredSaga = {
      ...previous,
      saga: next.saga,
      sagaState: next.saga.state,
      status: next.status,
      sagaVersion: version,
      updatedAt: now,
      stateEnteredAt: stateChanged ? now : previous.stateEnteredAt,
      appliedEventIds: [...previous.appliedEventIds, step.eventId].slice(-REMEMBERED_EVENT_IDS),
      totalAmount: next.saga.context.reservation?.amount ?? previous.totalAmount,
      currency: next.saga.context.reservation?.currency ?? previous.currency,
    };
    try {
      await transactWrite(this.doc, [
        {
          Update: {
            TableName: this.tables.orders,
            Key: { orderId: previous.orderId },
            UpdateExpression:
              'SET saga = :saga, sagaState = :state, #status = :status, sagaVersion = :version, updatedAt = :now, ' +
              'stateEnteredAt = :entered, appliedEventIds = :applied, totalAmount = :amount, currency = :currency',
            ConditionExpression: 'sagaVersion = :previous',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':saga': stored.saga,
              ':state': stored.sagaState,
              ':status': stored.status,
              ':version': version,
              ':now': now,
              ':entered': stored.stateEnteredAt,
              ':applied': stored.appliedEventIds,
              ':amount': stored.totalAmount,
              ':currency': stored.currency,
              ':previous': previous.sagaVersion,
            },
          },
        },
        { Put: this.historyPut(previous.orderId, version, previous.sagaState, next.saga.state, step, previous.correlationId, now) },
      ]);
    } catch (error) {
      if (error instanceof ConditionFailedError) {
        throw new VersionConflictError(`saga ${previous.orderId} moved past version ${previous.sagaVersion}`);
      }
      throw error;
    }
    return stored;
  }

  /**
   * Records an action taken on the saga without changing it (an operator's retry): the next
   * Events row and the version bump, in one transaction conditional on `previous`'s version, so
   * versions stay contiguous. Snapshot, state, stateEnteredAt and applied event ids stay as they
   * are; updatedAt moves. Throws VersionConflictError when the saga moved meanwhile (reload, retry).
   */
  async recordAction(previous: StoredSaga, step: StepRecord, now: string): Promise<StoredSaga> {
    const version = previous.sagaVersion + 1;
    try {
      await transactWrite(this.doc, [
        {
          Update: {
            TableName: this.tables.orders,
            Key: { orderId: previous.orderId },
            UpdateExpression: 'SET sagaVersion = :version, updatedAt = :now',
            ConditionExpression: 'sagaVersion = :previous',
            ExpressionAttributeValues: { ':version': version, ':now': now, ':previous': previous.sagaVersion },
          },
        },
        { Put: this.historyPut(previous.orderId, version, previous.sagaState, previous.sagaState, step, previous.correlationId, now) },
      ]);
    } catch (error) {
      if (error instanceof ConditionFailedError) {
        throw new VersionConflictError(`saga ${previous.orderId} moved past version ${previous.sagaVersion}`);
      }
      throw error;
    }
    return { ...previous, sagaVersion: version, updatedAt: now };
  }

  /**
   * Takes the right to re-send this saga's outbox now, compare-and-set on the lease last seen, so
   * that of all the sweeping workers one re-sends. Touches nothing a step's commit checks.
   */
  async leaseResend(saga: StoredSaga, lease: ResendLease): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tables.orders,
          Key: { orderId: saga.orderId },
          UpdateExpression: 'SET #lease = :lease',
          ConditionExpression: saga.resendLease
            ? '#version = :version AND #lease.#at = :seen'
            : '#version = :version AND attribute_not_exists(#lease)',
          ExpressionAttributeNames: { '#lease': 'resendLease', '#version': 'sagaVersion', ...(saga.resendLease ? { '#at': 'at' } : {}) },
          ExpressionAttributeValues: {
            ':lease': lease,
            ':version': saga.sagaVersion,
            ...(saga.resendLease ? { ':seen': saga.resendLease.at } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The saga's Events rows, oldest first (a base-table query: always current). */
  async history(orderId: string): Promise<SagaHistoryEntry[]> {
    const rows: SagaHistoryEntry[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.events,
          KeyConditionExpression: '#a = :id',
          ExpressionAttributeNames: { '#a': 'aggregateId' },
          ExpressionAttributeValues: { ':id': orderId },
          ConsistentRead: true,
          ExclusiveStartKey,
        }),
      );
      rows.push(...((page.Items ?? []) as SagaHistoryEntry[]));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return rows;
  }

  private historyPut(
    orderId: string,
    version: number,
    fromState: string | null,
    toState: string,
    step: StepRecord,
    correlationId: string,
    now: string,
  ) {
    const entry: SagaHistoryEntry = {
      aggregateId: orderId,
      version,
      eventType: step.eventType,
      eventId: step.eventId,
      timestamp: now,
      fromState,
      toState,
      payload: step.payload,
      correlationId,
      ...(step.actor ? { actor: step.actor } : {}),
    };
    // Events rows are appended, never overwritten.
    return { TableName: this.tables.events, Item: entry, ConditionExpression: 'attribute_not_exists(version)' };
  }
}

export function eventPayload(event: OrderSagaEvent): Record<string, unknown> {
  const { type: _type, ...payload } = event;
  return payload;
}
