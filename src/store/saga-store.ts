/**
 * The saga store: a narrow port over DynamoDB. A saga lives on its order's TicketOrders item
 * (snapshot, version, outbox, recent event ids) so that one conditional transaction of two items
 * — the order item and the next Events row — persists a step: snapshot, order status, history.
 */
import { isConditionalCheckFailed } from '../aws/dynamo-errors';
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { OrderSagaEvent, OrderStatus, PersistedSaga, SagaCommand, SagaOutcome } from '../../machines/order-saga';
import type { ResourceNames } from '../infra/resources';
import {
  omitsStateEnteredAt,
  type OrderItemFormat,
  packOrderItem,
  packSaga,
  rememberedEventId,
  REMEMBERED_EVENT_IDS,
  unpackOrderItem,
} from './order-item';
import { STATUS_UPDATED_INDEX } from './indexes';
import type { OrderRecord, ResendLease, StoredSaga, VersionWait } from './stored-saga';

export type { OrderRecord, ResendLease, StoredSaga, VersionWait };
import { ConditionFailedError, transactWrite, type TransactItems } from '../aws/transactions';

/** What an Events row holds instead of a payment token: tokens never leave the order item. */
export const PAYMENT_TOKEN_REDACTED = '[redacted]';

/** The commands as an Events row records them: a ChargePayment's token redacted. */
export function recordedCommands(commands: readonly SagaCommand[]): SagaCommand[] {
  return commands.map((c) => (c.kind === 'ChargePayment' ? { ...c, paymentToken: PAYMENT_TOKEN_REDACTED } : c));
}

/** BatchGetItem takes at most 100 keys per request (AWS limit). */
const BATCH_GET_MAX_KEYS = 100;

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
  /**
   * What the machine decided at this step, for npm run replay (absent on rows written before
   * machine versions): the machine version that decided, the order status and the saga's outcome
   * after the step, and the commands the step emitted.
   */
  machineVersion?: string;
  status?: OrderStatus;
  outcome?: SagaOutcome | null;
  commands?: SagaCommand[];
}

export interface StepRecord {
  eventId: string;
  eventType: string;
  payload: Record<string, unknown>;
  actor?: string;
}

/** The order's fixed, unique listing sort key (see StoredSaga.createdKey). */
export function createdKeyOf(order: Pick<OrderRecord, 'createdAt' | 'orderId'>): string {
  return `${order.createdAt}#${order.orderId}`;
}

/** A new order's saga as SagaStore.create stores it: version 1, the creating step remembered. */
export function createdSaga(
  order: OrderRecord,
  saga: PersistedSaga,
  step: Pick<StepRecord, 'eventId'>,
  now: string,
  format: OrderItemFormat,
): StoredSaga {
  return {
    ...order,
    createdKey: createdKeyOf(order),
    sagaState: saga.state,
    sagaVersion: 1,
    saga,
    appliedEventIds: [rememberedEventId(order.orderId, step.eventId, format)],
    stateEnteredAt: now,
  };
}

/**
 * The saga after one step on top of `previous`, as SagaStore.commit stores it: next version, the
 * event id remembered (the last REMEMBERED_EVENT_IDS), stateEnteredAt moved when the state did,
 * the order's total from the reservation once priced, the version-wait mark gone.
 */
export function steppedSaga(
  previous: StoredSaga,
  next: { saga: PersistedSaga; status: OrderStatus },
  step: Pick<StepRecord, 'eventId'>,
  now: string,
  format: OrderItemFormat,
): StoredSaga {
  const { versionWait: _cleared, ...rest } = previous;
  return {
    ...rest,
    saga: next.saga,
    sagaState: next.saga.state,
    status: next.status,
    sagaVersion: previous.sagaVersion + 1,
    updatedAt: now,
    stateEnteredAt: next.saga.state !== previous.sagaState ? now : previous.stateEnteredAt,
    appliedEventIds: [...previous.appliedEventIds, rememberedEventId(previous.orderId, step.eventId, format)].slice(
      -REMEMBERED_EVENT_IDS,
    ),
    totalAmountMinor: next.saga.context.reservation?.amountMinor ?? previous.totalAmountMinor,
    currency: next.saga.context.reservation?.currency ?? previous.currency,
  };
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
    /** How the order item is written (order-item.ts); both are read. */
    private readonly format: OrderItemFormat = 'full',
  ) {}

  private omitsStateEnteredAt(saga: StoredSaga): boolean {
    return this.format === 'packed' && omitsStateEnteredAt(saga);
  }

  async load(orderId: string): Promise<StoredSaga | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tables.orders, Key: { orderId }, ConsistentRead: true }),
    );
    return Item ? unpackOrderItem(Item) : undefined;
  }

  /**
   * Several sagas by order id, strongly consistent (BatchGetItem, at most 100 keys a request — the
   * AWS limit — and unprocessed keys retried with backoff). Ids with no order are absent from the map.
   * Throws when keys stay unprocessed after 10 rounds.
   */
  async loadMany(orderIds: readonly string[]): Promise<Map<string, StoredSaga>> {
    const found = new Map<string, StoredSaga>();
    const unique = [...new Set(orderIds)];
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX_KEYS) {
      let keys: Array<Record<string, unknown>> = unique
        .slice(i, i + BATCH_GET_MAX_KEYS)
        .map((orderId) => ({ orderId }));
      for (let round = 0; keys.length > 0; round++) {
        if (round >= 10)
          throw new Error(`loadMany: ${keys.length} orders still unprocessed after ${round} BatchGetItem rounds`);
        if (round > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
        const out = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.tables.orders]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.tables.orders] ?? [])
          found.set(String(item.orderId), unpackOrderItem(item));
        keys = (out.UnprocessedKeys?.[this.tables.orders]?.Keys ?? []) as Array<Record<string, unknown>>;
      }
    }
    return found;
  }

  /**
   * Writes a new order with its saga at version 1, and `claims` (e.g. its order number's lookup
   * item) in the same transaction. Throws OrderExistsError when the id is taken.
   */
  async create(
    order: OrderRecord,
    saga: PersistedSaga,
    step: StepRecord,
    now: string,
    claims: TransactItems[number]['Put'][] = [],
  ): Promise<StoredSaga> {
    const stored = createdSaga(order, saga, step, now, this.format);
    try {
      await transactWrite(this.doc, [
        {
          Put: {
            TableName: this.tables.orders,
            Item: packOrderItem(stored, this.format),
            ConditionExpression: 'attribute_not_exists(orderId)',
          },
        },
        {
          Put: this.historyPut(
            stored.orderId,
            1,
            null,
            { saga, status: order.status, commands: saga.outbox },
            step,
            order.correlationId,
            now,
          ),
        },
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
  async commit(
    previous: StoredSaga,
    next: { saga: PersistedSaga; status: OrderStatus; commands: SagaCommand[] },
    step: StepRecord,
    now: string,
  ): Promise<StoredSaga> {
    const stored = steppedSaga(previous, next, step, now, this.format);
    const version = stored.sagaVersion;
    try {
      await transactWrite(this.doc, [
        {
          Update: {
            TableName: this.tables.orders,
            Key: { orderId: previous.orderId },
            UpdateExpression:
              'SET saga = :saga, sagaState = :state, #status = :status, sagaVersion = :version, updatedAt = :now, ' +
              'appliedEventIds = :applied, totalAmountMinor = :amount, currency = :currency' +
              // stateEnteredAt is left out when it equals updatedAt (order-item.ts).
              (this.omitsStateEnteredAt(stored)
                ? ' REMOVE versionWait, stateEnteredAt'
                : ', stateEnteredAt = :entered REMOVE versionWait'),
            ConditionExpression: 'sagaVersion = :previous',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':saga': this.format === 'packed' ? packSaga(stored, stored.saga) : stored.saga,
              ':state': stored.sagaState,
              ':status': stored.status,
              ':version': version,
              ':now': now,
              ...(this.omitsStateEnteredAt(stored) ? {} : { ':entered': stored.stateEnteredAt }),
              ':applied': stored.appliedEventIds,
              ':amount': stored.totalAmountMinor,
              ':currency': stored.currency,
              ':previous': previous.sagaVersion,
            },
          },
        },
        {
          Put: this.historyPut(previous.orderId, version, previous.sagaState, next, step, previous.correlationId, now),
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
            // updatedAt moves, the state does not: stateEnteredAt is written out (order-item.ts).
            UpdateExpression: 'SET sagaVersion = :version, updatedAt = :now, stateEnteredAt = :entered',
            ConditionExpression: 'sagaVersion = :previous',
            ExpressionAttributeValues: {
              ':version': version,
              ':now': now,
              ':entered': previous.stateEnteredAt,
              ':previous': previous.sagaVersion,
            },
          },
        },
        {
          Put: this.historyPut(previous.orderId, version, previous.sagaState, null, step, previous.correlationId, now),
        },
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
   * Records that the saga's events wait on a machine version this build lacks (for /ops), on the
   * item as it was read: a saga that moved meanwhile is not marked. Touches nothing a step checks.
   * Returns false when the saga moved.
   */
  async markVersionWait(
    saga: StoredSaga,
    wait: Pick<VersionWait, 'machineVersion' | 'knownVersions' | 'eventType'>,
    now: string,
  ): Promise<boolean> {
    const previous = saga.versionWait?.machineVersion === wait.machineVersion ? saga.versionWait : undefined;
    const marker: VersionWait = {
      ...wait,
      since: previous?.since ?? now,
      lastSeenAt: now,
      seen: (previous?.seen ?? 0) + 1,
    };
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tables.orders,
          Key: { orderId: saga.orderId },
          UpdateExpression: 'SET versionWait = :wait',
          ConditionExpression: 'sagaVersion = :version',
          ExpressionAttributeValues: { ':wait': marker, ':version': saga.sagaVersion },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Removes the version-wait mark, if the saga is still at the version read (a step removes it too). */
  async clearVersionWait(saga: StoredSaga): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tables.orders,
          Key: { orderId: saga.orderId },
          UpdateExpression: 'REMOVE versionWait',
          ConditionExpression: 'sagaVersion = :version',
          ExpressionAttributeValues: { ':version': saga.sagaVersion },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
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
          ExpressionAttributeNames: {
            '#lease': 'resendLease',
            '#version': 'sagaVersion',
            ...(saga.resendLease ? { '#at': 'at' } : {}),
          },
          ExpressionAttributeValues: {
            ':lease': lease,
            ':version': saga.sagaVersion,
            ...(saga.resendLease ? { ':seen': saga.resendLease.at } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /**
   * The ids of the orders in `status` last updated before `before` (ISO 8601, exclusive), read from
   * StatusIndex: an index read that may lag, so callers re-read each order (load) before acting.
   * All pages are read.
   */
  async idsInStatusUpdatedBefore(status: OrderStatus, before: string): Promise<string[]> {
    const ids: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.updatedInStatus(status, { before, startKey });
      ids.push(...page.rows.map((row) => row.orderId));
      startKey = page.nextKey;
    } while (startKey);
    return ids;
  }

  /**
   * One page of StatusIndex (partition `status`, sort `updatedAt`, KEYS_ONLY): which orders of
   * `status` were last updated in [`since`, `before`) — or [`since`, `until`], `until` inclusive
   * (a cursor that resumes at a time shared by rows already shown) — (ISO 8601; either bound may be
   * left out; `before` wins over `until`), oldest first or, with `newestFirst`, newest first. An
   * index read that may lag: what an order is now is read from the base table (load, loadMany).
   * `limit` bounds the rows read (DynamoDB's Limit); `nextKey` continues the walk, undefined on the
   * last page.
   */
  async updatedInStatus(
    status: OrderStatus,
    range: {
      since?: string;
      before?: string;
      until?: string;
      limit?: number;
      newestFirst?: boolean;
      startKey?: Record<string, unknown>;
    },
  ): Promise<{ rows: Array<{ orderId: string; updatedAt: string }>; nextKey: Record<string, unknown> | undefined }> {
    const { since, before } = range;
    // Both upper bounds are queried inclusively; `before`'s own rows are dropped below.
    const upper = before ?? range.until;
    const sortKey =
      since !== undefined && upper !== undefined
        ? ' AND #u BETWEEN :since AND :before'
        : since !== undefined
          ? ' AND #u >= :since'
          : upper !== undefined
            ? before !== undefined
              ? ' AND #u < :before'
              : ' AND #u <= :before'
            : '';
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.tables.orders,
        IndexName: STATUS_UPDATED_INDEX,
        KeyConditionExpression: `#s = :status${sortKey}`,
        ExpressionAttributeNames: { '#s': 'status', ...(sortKey ? { '#u': 'updatedAt' } : {}) },
        ExpressionAttributeValues: {
          ':status': status,
          ...(since !== undefined ? { ':since': since } : {}),
          ...(upper !== undefined ? { ':before': upper } : {}),
        },
        ScanIndexForward: !range.newestFirst,
        Limit: range.limit,
        ExclusiveStartKey: range.startKey,
      }),
    );
    // BETWEEN includes its upper bound; `before` is exclusive.
    const rows = (page.Items ?? [])
      .map((row) => ({ orderId: String(row.orderId), updatedAt: String(row.updatedAt) }))
      .filter((row) => before === undefined || row.updatedAt < before);
    return { rows, nextKey: page.LastEvaluatedKey };
  }

  /** How many orders of `status` were last updated at or after `since` (ISO 8601), from StatusIndex (may lag). */
  async countUpdatedInStatusSince(status: OrderStatus, since: string): Promise<number> {
    let count = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.orders,
          IndexName: STATUS_UPDATED_INDEX,
          KeyConditionExpression: '#s = :status AND #u >= :since',
          ExpressionAttributeNames: { '#s': 'status', '#u': 'updatedAt' },
          ExpressionAttributeValues: { ':status': status, ':since': since },
          Select: 'COUNT',
          ExclusiveStartKey,
        }),
      );
      count += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return count;
  }

  /**
   * The saga's Events rows after `afterVersion` (default 0: all of them), oldest first (a
   * base-table query, strongly consistent: always current).
   */
  async history(orderId: string, afterVersion = 0): Promise<SagaHistoryEntry[]> {
    const rows: SagaHistoryEntry[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.events,
          KeyConditionExpression: '#a = :id AND #v > :after',
          ExpressionAttributeNames: { '#a': 'aggregateId', '#v': 'version' },
          ExpressionAttributeValues: { ':id': orderId, ':after': afterVersion },
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
    fromState: PersistedSaga['state'] | null,
    decided: { saga: PersistedSaga; status: OrderStatus; commands: SagaCommand[] } | null,
    step: StepRecord,
    correlationId: string,
    now: string,
  ) {
    // `decided` is null for an action that leaves the saga as it is (an operator's retry).
    const entry: SagaHistoryEntry = {
      aggregateId: orderId,
      version,
      eventType: step.eventType,
      eventId: step.eventId,
      timestamp: now,
      fromState,
      toState: decided?.saga.state ?? fromState ?? '',
      payload: step.payload,
      correlationId,
      ...(step.actor ? { actor: step.actor } : {}),
      ...(decided
        ? {
            machineVersion: decided.saga.machineVersion,
            status: decided.status,
            outcome: decided.saga.context.outcome,
            commands: recordedCommands(decided.commands),
          }
        : {}),
    };
    // Events rows are appended, never overwritten.
    return { TableName: this.tables.events, Item: entry, ConditionExpression: 'attribute_not_exists(version)' };
  }
}

export function eventPayload(event: OrderSagaEvent): Record<string, unknown> {
  const { type: _type, ...payload } = event;
  return payload;
}
