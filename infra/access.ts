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
  queues: Partial<Record<QueueKey, readonly SqsAction[]>>;
}

const READ_WRITE_ITEM: readonly DynamoAction[] = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];
/** Every process resolves all queue URLs at start (src/messaging/queues.ts) and reads depths for /metrics. */
const LOOK: readonly SqsAction[] = ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes'];
const SEND: readonly SqsAction[] = [...LOOK, 'sqs:SendMessage'];
const CONSUME: readonly SqsAction[] = [
  ...SEND,
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
      orders: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        ...READ_WRITE_ITEM.slice(1),
        'dynamodb:DescribeTable',
      ],
      events: ['dynamodb:PutItem', 'dynamodb:Query'],
      inventory: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ],
      orderNumbers: READ_WRITE_ITEM,
    },
    indexes: ['orders'],
    queues: {
      inventory: SEND,
      payment: SEND,
      notification: SEND,
      timer: SEND,
      saga: SEND,
      dlq: CONSUME,
      dlqFifo: CONSUME,
    },
  },
  worker: {
    tables: {
      orders: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ],
      events: ['dynamodb:PutItem', 'dynamodb:Query'],
      inventory: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      reservations: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      payments: READ_WRITE_ITEM,
      notifications: READ_WRITE_ITEM,
    },
    indexes: ['orders', 'reservations'],
    queues: {
      inventory: CONSUME,
      payment: CONSUME,
      notification: CONSUME,
      timer: CONSUME,
      saga: CONSUME,
      dlq: SEND,
      dlqFifo: LOOK,
    },
  },
};
