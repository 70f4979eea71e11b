/**
 * Least privilege per SERVICE_MODE: which actions each mode's process calls on which table, index
 * and queue. Read from the code (src/service.ts starts the API for `api`, the workers and the
 * sweeper for `worker`) and checked against what the processes really call:
 * test/infra/cdk-access.test.ts runs an API-mode and a worker-mode service on the local engines,
 * records every AWS call, and fails if one of them is not allowed here.
 *
 * IAM has no dynamodb:TransactWriteItems action: each item of a transaction is authorized as its
 * own PutItem / UpdateItem / DeleteItem / ConditionCheckItem. SendMessageBatch, DeleteMessageBatch
 * and ChangeMessageVisibilityBatch are authorized as sqs:SendMessage, sqs:DeleteMessage and
 * sqs:ChangeMessageVisibility.
 */
import type { QueueKey, TableKey } from '../src/infra/resources';

export type ServiceMode = 'api' | 'worker';

export type DynamoAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:Scan'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:ConditionCheckItem'
  | 'dynamodb:DescribeTable';

/** What a reader of a table's stream calls (DynamoDB Streams), on the stream's ARN. */
export const STREAM_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'] as const;

export type SqsAction =
  | 'sqs:GetQueueUrl'
  | 'sqs:GetQueueAttributes'
  | 'sqs:SendMessage'
  | 'sqs:ReceiveMessage'
  | 'sqs:DeleteMessage'
  | 'sqs:ChangeMessageVisibility';

/** What one mode may do: per table (base table), per table's indexes, per queue. */
export interface ModeAccess {
  tables: Partial<Record<TableKey, readonly DynamoAction[]>>;
  /** Query on `table/<name>/index/*`: the GSIs of these tables. */
  indexes: readonly TableKey[];
  /** STREAM_ACTIONS on these tables' streams (the stream ARN; the table's LatestStreamArn from DescribeTable). */
  streams: readonly TableKey[];
  queues: Partial<Record<QueueKey, readonly SqsAction[]>>;
}

/** Every process resolves all queue URLs at start (src/messaging/queues.ts) and reads depths for /metrics. */
const LOOK: readonly SqsAction[] = ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes'];
const SEND: readonly SqsAction[] = [...LOOK, 'sqs:SendMessage'];
/** A consumer: receive, renew the lease while handling (src/messaging/consumer.ts), delete when done. */
const CONSUME: readonly SqsAction[] = [
  ...SEND,
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
];
/**
 * The operator's dead letters (src/ops/dead-letter-ops.ts): look (receive, then hand back at once),
 * redrive (send to the source queue, never to a DLQ, then delete), delete.
 */
const OPERATE_DLQ: readonly SqsAction[] = [
  ...LOOK,
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
];

/**
 * The access model. `api`: HTTP routes, the saga runtime's start and cancel (a step's transaction,
 * then the outbox sent), order numbers, inventory administration, the operator's DLQ
 * redrive/discard, health, metrics. `worker`: the consumers of every work queue, the participants'
 * effects, the saga steps, the sweeper, metrics.
 */
export const ACCESS: Record<ServiceMode, ModeAccess> = {
  api: {
    tables: {
      // Place (the transaction's Put), cancel and operator steps (Update), reads, the health check.
      orders: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DescribeTable',
      ],
      // A step's commit (its Events row, Put); the load's latest row and a saga's history for /sagas,
      // the console, replay, the inspector (Query).
      events: ['dynamodb:PutItem', 'dynamodb:Query'],
      // Inventory administration (PUT /events/{id}/inventory) and its reads.
      inventory: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ],
      // Order numbers: allocate (Update), claim (transaction Put), look up (Get).
      orderNumbers: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      // The console's saga page shows each participant's record of the order.
      reservations: ['dynamodb:GetItem'],
      payments: ['dynamodb:GetItem'],
      notifications: ['dynamodb:GetItem'],
    },
    // Customer and status listings, stuck sagas, the console's saga list.
    indexes: ['orders'],
    // The live list stream (GET /sagas/stream) tails the TicketOrders stream (src/store/order-stream.ts,
    // issue 25); it finds the stream with DescribeTable, granted above.
    streams: ['orders'],
    // A step the API applies may emit any command (src/runtime/dispatcher.ts); redrive sends to any source.
    queues: {
      inventory: SEND,
      payment: SEND,
      notification: SEND,
      timer: SEND,
      saga: SEND,
      dlq: OPERATE_DLQ,
      dlqFifo: OPERATE_DLQ,
    },
  },
  worker: {
    tables: {
      // A saga step: load (Get), the projection's Update; leases and version waits (Update); stuck listing.
      orders: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      // A step's commit: its Events row (conditional Put); the load reads the latest row (Query, issue 25).
      events: ['dynamodb:PutItem', 'dynamodb:Query'],
      // Reserve and release seats (transaction Update), shard reads.
      inventory: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      reservations: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      payments: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      // Written once per notice (conditional Put); a duplicate reads the first.
      notifications: ['dynamodb:GetItem', 'dynamodb:PutItem'],
    },
    // The sweeper: StatusOrdersIndex (stalled sagas, and the sagas whose hold may have expired); the
    // stuck listing. TicketReservations has no index since issue 25 retired ExpirationIndex.
    indexes: ['orders'],
    streams: [],
    queues: {
      inventory: CONSUME,
      payment: CONSUME,
      notification: CONSUME,
      timer: CONSUME,
      // Consumed; also sent to: due timers forwarded into the saga's group, replies in 'queue' delivery.
      saga: CONSUME,
      // A message a handler cannot take goes here with its reason (src/messaging/dead-letters.ts).
      dlq: SEND,
      // Only SQS's own redrive fills it; the worker resolves its URL and reads its depth.
      dlqFifo: LOOK,
    },
  },
};
