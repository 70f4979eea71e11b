/**
 * The saga store: a narrow port over DynamoDB. **The Events row is the commit** (issue 25): a step
 * after the create is one conditional PutItem of the saga's next Events row (`aggregateId`,
 * `version`, `attribute_not_exists`), which carries the event, the new snapshot and its outbox. The
 * order's TicketOrders item is a projection of it, written after the commit (conditional on holding
 * an older version) and rolled forward by whoever next finds it behind (the next step, the sweeper);
 * a step the machine needs no projection of (stepNeedsProjection) is not projected at all.
 * `load` reads what is exact: the latest Events row (strongly consistent) over the order item. The
 * create is plain writes, the version-1 Events row first (the claim of the order id), then (by the
 * runtime) the order number's lookup item, then the order item (`create`).
 */
import { isConditionalCheckFailed } from '../aws/dynamo-errors';
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
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
  packs,
  rememberedEventId,
  rememberedEventIds,
  REMEMBERED_EVENT_IDS,
  unpackOrderItem,
} from './order-item';
import { STATUS_ORDERS_INDEX } from './indexes';
import { KeptOrderItems } from './kept-order-items';
import {
  exactSaga,
  idsOnRow,
  packRowCommands,
  PAYMENT_TOKEN_REDACTED,
  projectionFields,
  rowSaga,
  SagaRecordsInconsistentError,
  unpackRowCommands,
  type EventSnapshot,
  type RowSaga,
} from './event-snapshot';
import type { OrderRecord, ResendLease, StoredSaga, VersionWait } from './stored-saga';

export type { OrderRecord, ResendLease, StoredSaga, VersionWait };
export { KeptOrderItems };

/**
 * What `SagaStore.read` gives of an order: its fields and where its saga stands (state, status,
 * version, total, updatedAt), as GET /orders/:id shows them. Not a saga to step.
 */
export type SagaReading = Pick<
  StoredSaga,
  | 'orderId'
  | 'orderNumber'
  | 'eventName'
  | 'customerId'
  | 'eventId'
  | 'items'
  | 'status'
  | 'totalAmountMinor'
  | 'currency'
  | 'createdAt'
  | 'updatedAt'
  | 'sagaState'
  | 'sagaVersion'
>;

/** The reading of a saga: only its SagaReading fields (not the context, where a token may be). */
function readingOf(saga: StoredSaga): SagaReading {
  return {
    orderId: saga.orderId,
    orderNumber: saga.orderNumber,
    eventName: saga.eventName,
    customerId: saga.customerId,
    eventId: saga.eventId,
    items: saga.items,
    status: saga.status,
    totalAmountMinor: saga.totalAmountMinor,
    currency: saga.currency,
    createdAt: saga.createdAt,
    updatedAt: saga.updatedAt,
    sagaState: saga.sagaState,
    sagaVersion: saga.sagaVersion,
  };
}

export { PAYMENT_TOKEN_REDACTED, SagaRecordsInconsistentError } from './event-snapshot';

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

/**
 * An Events row as stored: the history entry, its `commands` packed (event-snapshot.ts
 * packRowCommands; rows of earlier builds hold them whole), and, on every row a step wrote since
 * issue 25 (not on version 1, whose order item is written in the same transaction, nor on rows of
 * earlier builds), the saga as the step left it: `saga` (RowSaga) since issue 25's size cut,
 * `snapshot` (EventSnapshot) on the rows of the first issue-25 build (event-snapshot.ts).
 */
export interface StoredEventRow extends Omit<SagaHistoryEntry, 'commands'> {
  commands?: Array<Record<string, unknown>>;
  saga?: RowSaga;
  snapshot?: EventSnapshot;
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
  const { versionWait: _cleared, projectedVersion: _behind, projectedState: _was, ...rest } = previous;
  return {
    ...rest,
    saga: next.saga,
    sagaState: next.saga.state,
    status: next.status,
    sagaVersion: previous.sagaVersion + 1,
    updatedAt: now,
    stateEnteredAt: next.saga.state !== previous.sagaState ? now : previous.stateEnteredAt,
    // A saga read from an Events row holds short ids: the item's format decides the form kept.
    appliedEventIds: rememberedEventIds(previous.orderId, [...previous.appliedEventIds, step.eventId], format).slice(
      -REMEMBERED_EVENT_IDS,
    ),
    totalAmountMinor: next.saga.context.reservation?.amountMinor ?? previous.totalAmountMinor,
    currency: next.saga.context.reservation?.currency ?? previous.currency,
  };
}

/**
 * A step is written only on top of a saga as `load` reads it: a 'compact' order item read alone
 * (loadMany, loadProjection: the listings' projection) holds no applied event ids, and a row
 * written on top of it would forget them (a redelivery would then be applied twice).
 */
function requireAppliedIds(previous: StoredSaga): void {
  if (previous.appliedEventIds.length === 0)
    throw new Error(`saga ${previous.orderId}: written on top of a projection without its applied event ids; load it`);
}

export class VersionConflictError extends Error {
  override name = 'VersionConflictError';
}

export class OrderExistsError extends Error {
  override name = 'OrderExistsError';
}

/**
 * What a create records on its version-1 Events row (attribute `created`), for finishing it: the
 * request's fingerprint (only the same request may finish it) and its order number (reused, so
 * that a lookup item already written points at the order that has that number).
 */
export interface CreatedRecord {
  requestHash: string;
  orderNumber?: string;
}

/**
 * A create found the order's version-1 Events row but no order item: an earlier create of this id
 * died between the two (nobody was told of the order, no command was sent). `created` is what that
 * create recorded (absent only on rows no build of issue 25 wrote), `createdAt` its time.
 */
export class UnfinishedCreateError extends Error {
  override name = 'UnfinishedCreateError';
  readonly created: CreatedRecord | undefined;
  readonly createdAt: string;
  readonly machineVersion: string | undefined;
  constructor(orderId: string, row: StoredEventRow & { created?: CreatedRecord }) {
    super(`order ${orderId}: its create was not finished`);
    this.created = row.created;
    this.createdAt = row.timestamp;
    this.machineVersion = row.machineVersion;
  }
}

export class SagaStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: ResourceNames['tables'],
    /** How the order item is written (order-item.ts); both are read. */
    private readonly format: OrderItemFormat = 'full',
  ) {}

  private omitsStateEnteredAt(saga: StoredSaga): boolean {
    return packs(this.format) && omitsStateEnteredAt(saga);
  }

  /**
   * The saga as committed: the latest Events row (Query, ScanIndexForward false, Limit 1, strongly
   * consistent) over the order item (GetItem, strongly consistent; it holds the order's fixed
   * fields and the payment token), the item first. When the item lags the commit, the saga is the
   * row's snapshot and `projectedVersion` says where the item stands (roll it forward: `project`).
   * Undefined when there is no such order.
   */
  async load(orderId: string): Promise<StoredSaga | undefined> {
    const read = await this.itemThenRow(orderId);
    if (!read) return undefined;
    const exact = exactSaga(read.item, read.latest);
    // A row holds the short ids; the saga shows them in the item's format (as a step keeps them).
    return { ...exact, appliedEventIds: rememberedEventIds(orderId, exact.appliedEventIds, this.format) };
  }

  /**
   * The order item (unpacked), then the saga's latest Events row, both strongly consistent; undefined
   * when there is no order item. In that order: an item is projected only after its row was
   * committed and rows are never removed, so a row read after the item is never behind it. Read at
   * once, a step committed and projected between the two could show an item ahead of its row.
   */
  private async itemThenRow(
    orderId: string,
  ): Promise<{ item: StoredSaga; latest: StoredEventRow | undefined } | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tables.orders, Key: { orderId }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const item = unpackOrderItem(Item);
    return { item, latest: await this.latestEventRow(orderId) };
  }

  /**
   * The order as committed, for showing it (GET /orders/:id): what `load` gives, in one DynamoDB
   * request when `kept` holds the order item, the latest Events row (strongly consistent) read
   * over the kept item; otherwise, or when the row cannot be read over it (a row an older build
   * wrote without a snapshot), the item and the row as `load` reads them, the item then kept.
   * Exact as `load` is: the kept item gives only the order's fixed fields, which never change, and
   * the row where the saga stands (kept-order-items.ts says why). Undefined when there is no such
   * order (absence is never kept). Without the saga's context, outbox or applied event ids: nothing
   * is written on top of a reading.
   * @throws SagaRecordsInconsistentError as `load`.
   */
  async read(orderId: string, kept: KeptOrderItems): Promise<SagaReading | undefined> {
    const item = kept.get(orderId);
    if (item) {
      const latest = await this.latestEventRow(orderId);
      try {
        return readingOf(exactSaga(item, latest));
      } catch (error) {
        if (!(error instanceof SagaRecordsInconsistentError)) throw error;
      }
    }
    const read = await this.itemThenRow(orderId);
    if (!read) return undefined;
    kept.remember(read.item);
    return readingOf(exactSaga(read.item, read.latest));
  }

  /**
   * The order item alone (GetItem, strongly consistent): the projection, which may lag the commit
   * (see load). For what is shown as a projection, and for tests of the lag.
   */
  async loadProjection(orderId: string): Promise<StoredSaga | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tables.orders, Key: { orderId }, ConsistentRead: true }),
    );
    return Item ? unpackOrderItem(Item) : undefined;
  }

  /** The saga's latest Events row (the highest version), strongly consistent; undefined when it has none. */
  private async latestEventRow(orderId: string): Promise<StoredEventRow | undefined> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tables.events,
        KeyConditionExpression: '#a = :id',
        ExpressionAttributeNames: { '#a': 'aggregateId' },
        ExpressionAttributeValues: { ':id': orderId },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return Items?.[0] as StoredEventRow | undefined;
  }

  /**
   * Several sagas by order id as their order items hold them: the projections, which may lag
   * their commits (docs/data-model.md, "The projection"). Strongly consistent (BatchGetItem, at
   * most 100 keys a request — the AWS limit — and unprocessed keys retried with backoff). Ids
   * with no order are absent from the map. Throws when keys stay unprocessed after 10 rounds.
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
   * Writes a new order with its saga at version 1, in three plain writes, no transaction (issue 25:
   * a transaction bills every item and every index entry twice):
   * 1. its Events row at version 1 (`startCreate`): THE CLAIM of the order id, hence of the
   *    Idempotency-Key it derives from;
   * 2. (the caller's, between the two: its order number's lookup item, OrderNumbers.claim;)
   * 3. the order item (`finishCreate`, `attribute_not_exists`): the order exists for readers
   *    from here on. The order is visible (load, listings) only once its item is
   * written, and every order item has its version-1 row. A writer that died after 1 left an
   * unfinished create: nobody was told of the order and no command was sent; the next create of
   * the same id finds the row without an item and throws UnfinishedCreateError, whose caller
   * finishes it (finishCreate) when it is the same request (SagaRuntime.place).
   * @throws OrderExistsError when the order item exists; UnfinishedCreateError (above).
   */
  async create(order: OrderRecord, saga: PersistedSaga, step: StepRecord, now: string): Promise<StoredSaga> {
    await this.startCreate(order, saga, step, now);
    return this.finishCreate(order, saga, step, now);
  }

  /**
   * Step 1 of `create`: the order's Events row at version 1, conditional on `attribute_not_exists`,
   * recording the request's fingerprint and the order number (`created`), so that only the same
   * request finishes a create that died after it, with the same number.
   * @throws OrderExistsError when the order item exists; UnfinishedCreateError when only the row does.
   */
  async startCreate(order: OrderRecord, saga: PersistedSaga, step: StepRecord, now: string): Promise<void> {
    const created: CreatedRecord = {
      requestHash: order.requestHash,
      ...(order.orderNumber ? { orderNumber: order.orderNumber } : {}),
    };
    const row = this.historyPut(
      order.orderId,
      1,
      null,
      { saga, status: order.status, commands: saga.outbox },
      step,
      order.correlationId,
      now,
    );
    try {
      await this.doc.send(new PutCommand({ ...row, Item: { ...row.Item, created } }));
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      if (await this.loadProjection(order.orderId)) throw new OrderExistsError(`order ${order.orderId} exists`);
      const first = await this.createdRow(order.orderId);
      // Events rows are never deleted: a row that failed the condition a moment ago is there.
      if (!first) throw new Error(`order ${order.orderId}: its version-1 Events row vanished`, { cause: error });
      throw new UnfinishedCreateError(order.orderId, first);
    }
  }

  /**
   * The last write of `create`: the order item, for an order whose version-1 Events row is
   * written: just now by `startCreate`, or earlier by a create that died, when the caller caught
   * UnfinishedCreateError and found the request to be the same (it passes the row's time as `now`,
   * and its order number).
   * @throws OrderExistsError when the item exists (another writer finished it first).
   */
  async finishCreate(
    order: OrderRecord,
    saga: PersistedSaga,
    step: Pick<StepRecord, 'eventId'>,
    now: string,
  ): Promise<StoredSaga> {
    const stored = createdSaga(order, saga, step, now, this.format);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tables.orders,
          Item: packOrderItem(stored, this.format),
          ConditionExpression: 'attribute_not_exists(orderId)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new OrderExistsError(`order ${order.orderId} exists`);
      throw error;
    }
    return stored;
  }

  /** The version-1 Events row of an order (strongly consistent), with what its create recorded. */
  private async createdRow(orderId: string): Promise<(StoredEventRow & { created?: CreatedRecord }) | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.tables.events,
        Key: { aggregateId: orderId, version: 1 },
        ConsistentRead: true,
      }),
    );
    return Item as (StoredEventRow & { created?: CreatedRecord }) | undefined;
  }

  /**
   * THE COMMIT of one step on top of `previous`: its Events row at the next version, conditional on
   * `attribute_not_exists(version)`, carrying the event, the new snapshot and its outbox. One PutItem;
   * the order item is not touched (`project` follows). Throws VersionConflictError when another
   * writer took that version first (reload and re-apply; never overwrite).
   */
  async append(
    previous: StoredSaga,
    next: { saga: PersistedSaga; status: OrderStatus; commands: SagaCommand[] },
    step: StepRecord,
    now: string,
  ): Promise<StoredSaga> {
    requireAppliedIds(previous);
    const stored = steppedSaga(previous, next, step, now, this.format);
    try {
      await this.doc.send(
        new PutCommand(
          this.historyPut(
            previous.orderId,
            stored.sagaVersion,
            previous.sagaState,
            next,
            step,
            previous.correlationId,
            now,
            rowSaga(stored, next.commands),
          ),
        ),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        throw new VersionConflictError(`saga ${previous.orderId} moved past version ${previous.sagaVersion}`);
      }
      throw error;
    }
    return stored;
  }

  /**
   * Brings the order item (the projection) up to `saga`, a committed version, conditional on the
   * item holding an older one: a projection never goes back. Returns false when it already held
   * this version or a later one. Clears the version-wait mark, as a step always did.
   */
  async project(saga: StoredSaga): Promise<boolean> {
    const omit = this.omitsStateEnteredAt(saga);
    // 'compact' leaves the applied event ids to the Events row (event-snapshot.ts idsOnRow).
    const ids = !idsOnRow(saga, this.format);
    const set = [
      'saga = :saga, sagaState = :state, #status = :status, sagaVersion = :version, updatedAt = :now',
      ...(ids ? ['appliedEventIds = :applied'] : []),
      'totalAmountMinor = :amount, currency = :currency',
      // stateEnteredAt is left out when it equals updatedAt (order-item.ts).
      ...(omit ? [] : ['stateEnteredAt = :entered']),
    ];
    const remove = ['versionWait', ...(omit ? ['stateEnteredAt'] : []), ...(ids ? [] : ['appliedEventIds'])];
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tables.orders,
          Key: { orderId: saga.orderId },
          UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
          ConditionExpression: 'attribute_exists(orderId) AND sagaVersion < :version',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: projectionFields(saga, this.format, omit),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /**
   * One step, committed and projected: `append`, then `project` (for tools and tests; the runtime
   * calls the two itself, with crash points between). Throws VersionConflictError as `append`.
   */
  async commit(
    previous: StoredSaga,
    next: { saga: PersistedSaga; status: OrderStatus; commands: SagaCommand[] },
    step: StepRecord,
    now: string,
  ): Promise<StoredSaga> {
    const stored = await this.append(previous, next, step, now);
    await this.project(stored);
    return stored;
  }

  /**
   * Records an action taken on the saga without changing it (an operator's retry): the next Events
   * row, conditional on that version being free (the commit, as for a step), carrying the snapshot
   * unchanged; then the projection. Snapshot, state, stateEnteredAt and applied event ids stay as
   * they are; updatedAt moves. Throws VersionConflictError when the saga moved meanwhile (reload, retry).
   */
  async recordAction(previous: StoredSaga, step: StepRecord, now: string): Promise<StoredSaga> {
    requireAppliedIds(previous);
    const { projectedVersion: _behind, projectedState: _was, versionWait: _wait, ...rest } = previous;
    const stored: StoredSaga = { ...rest, sagaVersion: previous.sagaVersion + 1, updatedAt: now };
    try {
      await this.doc.send(
        new PutCommand(
          this.historyPut(
            previous.orderId,
            stored.sagaVersion,
            previous.sagaState,
            null,
            step,
            previous.correlationId,
            now,
            rowSaga(stored, null),
          ),
        ),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        throw new VersionConflictError(`saga ${previous.orderId} moved past version ${previous.sagaVersion}`);
      }
      throw error;
    }
    await this.project(stored);
    return stored;
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
   * The ids of the orders in `status` last updated before `before` (ISO 8601, exclusive): the
   * sweeper's stale candidates. Read without an index on `updatedAt` (issue 25 retired StatusIndex,
   * whose key moved on every step): an order last updated before `before` was necessarily created
   * before it, so StatusOrdersIndex (partition `status`, sort `createdKey` = `createdAt#orderId`,
   * KEYS_ONLY) is walked for `createdKey < before`, every page's items are read (loadMany: the
   * projections, strongly consistent) and those with `updatedAt < before` kept. A projection that
   * lags its commit keeps an older `updatedAt`, so it is kept too (the sweeper rolls it forward).
   * The index may lag (a GSI): callers re-read each order (load) before acting. All pages are read;
   * the cost is one index page and one BatchGetItem per 100 open orders created before `before`.
   */
  async idsInStatusUpdatedBefore(status: OrderStatus, before: string): Promise<string[]> {
    const ids: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.createdInStatus(status, { before, limit: BATCH_GET_MAX_KEYS, startKey });
      const items = await this.loadMany(page.rows.map((row) => row.orderId));
      for (const row of page.rows) {
        const saga = items.get(row.orderId);
        if (saga && saga.updatedAt < before) ids.push(row.orderId);
      }
      startKey = page.nextKey;
    } while (startKey);
    return ids;
  }

  /**
   * One page of StatusOrdersIndex (partition `status`, sort `createdKey` = `createdAt#orderId`,
   * KEYS_ONLY): which orders of `status` were created in [`since`, `before`) (ISO 8601 times, or
   * `createdKey`s: a key sorts just after its own time; either bound may be left out), oldest
   * first or, with `newestFirst`, newest first. An index read that may lag: what an order is now
   * is read from the base table (load, loadMany). `limit` bounds the rows read (DynamoDB's Limit);
   * `nextKey` continues the walk, undefined on the last page.
   */
  async createdInStatus(
    status: OrderStatus,
    range: {
      since?: string;
      before?: string;
      limit?: number;
      newestFirst?: boolean;
      startKey?: Record<string, unknown>;
    },
  ): Promise<{ rows: Array<{ orderId: string; createdKey: string }>; nextKey: Record<string, unknown> | undefined }> {
    const { since, before } = range;
    const sortKey =
      since !== undefined && before !== undefined
        ? ' AND #k BETWEEN :since AND :before'
        : since !== undefined
          ? ' AND #k >= :since'
          : before !== undefined
            ? ' AND #k < :before'
            : '';
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.tables.orders,
        IndexName: STATUS_ORDERS_INDEX,
        KeyConditionExpression: `#s = :status${sortKey}`,
        ExpressionAttributeNames: { '#s': 'status', ...(sortKey ? { '#k': 'createdKey' } : {}) },
        ExpressionAttributeValues: {
          ':status': status,
          ...(since !== undefined ? { ':since': since } : {}),
          ...(before !== undefined ? { ':before': before } : {}),
        },
        ScanIndexForward: !range.newestFirst,
        Limit: range.limit,
        ExclusiveStartKey: range.startKey,
      }),
    );
    // BETWEEN includes its upper bound; `before` is exclusive.
    const rows = (page.Items ?? [])
      .map((row) => ({ orderId: String(row.orderId), createdKey: String(row.createdKey) }))
      .filter((row) => before === undefined || row.createdKey < before);
    return { rows, nextKey: page.LastEvaluatedKey };
  }

  /** How many orders of `status` were created at or after `since` (ISO 8601), from StatusOrdersIndex (may lag). */
  async countCreatedInStatusSince(status: OrderStatus, since: string): Promise<number> {
    let count = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tables.orders,
          IndexName: STATUS_ORDERS_INDEX,
          KeyConditionExpression: '#s = :status AND #k >= :since',
          ExpressionAttributeNames: { '#s': 'status', '#k': 'createdKey' },
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
      // The snapshot is the runtime's (load); the history is what happened.
      rows.push(...((page.Items ?? []) as StoredEventRow[]).map(historyEntry));
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
    saga?: RowSaga,
  ) {
    // `decided` is null for an action that leaves the saga as it is (an operator's retry).
    const entry: StoredEventRow = {
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
            commands: packRowCommands(orderId, decided.commands),
          }
        : {}),
      ...(saga ? { saga } : {}),
    };
    // Events rows are appended, never overwritten.
    return { TableName: this.tables.events, Item: entry, ConditionExpression: 'attribute_not_exists(version)' };
  }
}

/** A stored Events row as the history shows it: without the saga it carries, its commands whole. */
export function historyEntry(row: StoredEventRow & { created?: CreatedRecord }): SagaHistoryEntry {
  const { snapshot: _snapshot, saga: _saga, created: _created, commands, ...entry } = row;
  const whole = unpackRowCommands(row.aggregateId, commands);
  return { ...entry, ...(whole ? { commands: whole } : {}) };
}

export function eventPayload(event: OrderSagaEvent): Record<string, unknown> {
  const { type: _type, ...payload } = event;
  return payload;
}
