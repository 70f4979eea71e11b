/**
 * The tables and queues, built from init-scripts/resources.json (through src/infra/resources.ts,
 * the same reader `npm run init` uses): one source of truth for the laptop and for AWS.
 *
 * What AWS adds to the definitions, and the JSON has no say in: point-in-time recovery, deletion
 * protection and a retained table on stack deletion, a customer-managed KMS key for the tables,
 * SQS-managed encryption (SSE-SQS) and TLS-only access for the queues. A field of resources.json this
 * file does not know makes the synth throw: nothing in the source of truth is dropped in silence.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  queueDefinitions,
  REDRIVE_MAX_RECEIVE_COUNT,
  resourceNames,
  tableDefinitions,
  type QueueKey,
  type TableKey,
} from '../src/infra/resources';

/** The table fields this file maps; any other field in resources.json is refused (see tableProps). */
const KNOWN_TABLE_FIELDS = new Set([
  'TableName',
  'BillingMode',
  'AttributeDefinitions',
  'KeySchema',
  'GlobalSecondaryIndexes',
  'StreamSpecification',
  'TimeToLiveSpecification',
]);
/** The queue attributes this file maps; any other is refused (see queueProps). */
const KNOWN_QUEUE_ATTRIBUTES = new Set([
  'FifoQueue',
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'MaximumMessageSize',
]);

/** A table definition as resources.json writes it (CreateTable's input, plus an optional TTL). */
export interface TableDefinition {
  TableName: string;
  BillingMode?: string;
  AttributeDefinitions: Array<{ AttributeName: string; AttributeType: string }>;
  KeySchema: Array<{ AttributeName: string; KeyType: string }>;
  GlobalSecondaryIndexes?: Array<{
    IndexName: string;
    KeySchema: Array<{ AttributeName: string; KeyType: string }>;
    Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
  }>;
  StreamSpecification?: { StreamEnabled: boolean; StreamViewType?: string };
  TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
}

function attributeOf(table: TableDefinition, name: string): dynamodb.Attribute {
  const definition = table.AttributeDefinitions.find((a) => a.AttributeName === name);
  if (!definition)
    throw new Error(`resources.json: ${table.TableName} keys on ${name}, which has no AttributeDefinition`);
  const types: Record<string, dynamodb.AttributeType> = {
    S: dynamodb.AttributeType.STRING,
    N: dynamodb.AttributeType.NUMBER,
    B: dynamodb.AttributeType.BINARY,
  };
  const type = types[definition.AttributeType];
  if (!type) throw new Error(`resources.json: ${table.TableName}.${name} has type ${definition.AttributeType}`);
  return { name, type };
}

function keysOf(
  table: TableDefinition,
  schema: TableDefinition['KeySchema'],
): { partitionKey: dynamodb.Attribute; sortKey?: dynamodb.Attribute } {
  const hash = schema.find((k) => k.KeyType === 'HASH');
  const range = schema.find((k) => k.KeyType === 'RANGE');
  if (!hash || schema.length > 2) throw new Error(`resources.json: ${table.TableName} has a key schema CDK cannot map`);
  return {
    partitionKey: attributeOf(table, hash.AttributeName),
    sortKey: range ? attributeOf(table, range.AttributeName) : undefined,
  };
}

const PROJECTIONS: Record<string, dynamodb.ProjectionType> = {
  ALL: dynamodb.ProjectionType.ALL,
  KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
  INCLUDE: dynamodb.ProjectionType.INCLUDE,
};

const STREAM_VIEWS: Record<string, dynamodb.StreamViewType> = {
  NEW_IMAGE: dynamodb.StreamViewType.NEW_IMAGE,
  OLD_IMAGE: dynamodb.StreamViewType.OLD_IMAGE,
  NEW_AND_OLD_IMAGES: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
  KEYS_ONLY: dynamodb.StreamViewType.KEYS_ONLY,
};

/**
 * TableV2 properties for one resources.json table. Throws on a field or value it cannot map
 * (a provisioned table, an unknown projection, a field added to the JSON that this file ignores).
 */
export function tableProps(table: TableDefinition, encryptionKey: kms.IKey): dynamodb.TablePropsV2 {
  const unknown = Object.keys(table).filter((k) => !KNOWN_TABLE_FIELDS.has(k));
  if (unknown.length > 0)
    throw new Error(`resources.json: ${table.TableName} has fields infra/ does not map: ${unknown.join(', ')}`);
  if (table.BillingMode !== undefined && table.BillingMode !== 'PAY_PER_REQUEST')
    throw new Error(`resources.json: ${table.TableName} billing ${table.BillingMode}: only PAY_PER_REQUEST is mapped`);
  const gsis = (table.GlobalSecondaryIndexes ?? []).map((g): dynamodb.GlobalSecondaryIndexPropsV2 => {
    const projectionType = PROJECTIONS[g.Projection.ProjectionType];
    if (!projectionType) throw new Error(`resources.json: ${g.IndexName} projection ${g.Projection.ProjectionType}`);
    return {
      indexName: g.IndexName,
      ...keysOf(table, g.KeySchema),
      projectionType,
      nonKeyAttributes: g.Projection.NonKeyAttributes,
    };
  });
  const stream = table.StreamSpecification?.StreamEnabled
    ? STREAM_VIEWS[table.StreamSpecification.StreamViewType ?? '']
    : undefined;
  if (table.StreamSpecification?.StreamEnabled && !stream)
    throw new Error(`resources.json: ${table.TableName} stream view ${table.StreamSpecification.StreamViewType}`);
  return {
    tableName: table.TableName,
    ...keysOf(table, table.KeySchema),
    billing: dynamodb.Billing.onDemand(),
    globalSecondaryIndexes: gsis.length > 0 ? gsis : undefined,
    dynamoStream: stream,
    timeToLiveAttribute: table.TimeToLiveSpecification?.Enabled
      ? table.TimeToLiveSpecification.AttributeName
      : undefined,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
    encryption: dynamodb.TableEncryptionV2.customerManagedKey(encryptionKey),
  };
}

/** SQS queue properties for one resources.json queue; the DLQ is looked up among those made before. */
export function queueProps(
  queue: ReturnType<typeof queueDefinitions>[number],
  madeBefore: ReadonlyMap<string, sqs.IQueue>,
): sqs.QueueProps {
  const a = queue.Attributes;
  const unknown = Object.keys(a).filter((k) => !KNOWN_QUEUE_ATTRIBUTES.has(k));
  if (unknown.length > 0)
    throw new Error(`resources.json: ${queue.QueueName} has attributes infra/ does not map: ${unknown.join(', ')}`);
  const seconds = (name: string) => (a[name] === undefined ? undefined : Duration.seconds(Number(a[name])));
  let deadLetterQueue: sqs.DeadLetterQueue | undefined;
  if (queue.DeadLetterQueue) {
    const dlq = madeBefore.get(queue.DeadLetterQueue);
    if (!dlq) throw new Error(`resources.json: ${queue.DeadLetterQueue} must come before ${queue.QueueName}`);
    deadLetterQueue = { queue: dlq, maxReceiveCount: REDRIVE_MAX_RECEIVE_COUNT };
  }
  const fifo = a.FifoQueue === 'true';
  return {
    queueName: queue.QueueName,
    fifo: fifo || undefined,
    contentBasedDeduplication:
      a.ContentBasedDeduplication === undefined ? undefined : a.ContentBasedDeduplication === 'true',
    deduplicationScope: a.DeduplicationScope as sqs.DeduplicationScope | undefined,
    fifoThroughputLimit: a.FifoThroughputLimit as sqs.FifoThroughputLimit | undefined,
    visibilityTimeout: seconds('VisibilityTimeout'),
    retentionPeriod: seconds('MessageRetentionPeriod'),
    deliveryDelay: seconds('DelaySeconds'),
    receiveMessageWaitTime: seconds('ReceiveMessageWaitTimeSeconds'),
    maxMessageSizeBytes: a.MaximumMessageSize === undefined ? undefined : Number(a.MaximumMessageSize),
    deadLetterQueue,
    // SSE-SQS: no KMS request per message (10,000 orders/s send several messages each), no key policy to keep.
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // A queue holds in-flight orders: deleting the stack must not delete them.
    removalPolicy: RemovalPolicy.RETAIN,
  };
}

export interface DataProps {
  /** RESOURCE_PREFIX of the services: prepended to every table and queue name. */
  resourcePrefix: string;
  /** Encrypts the tables. */
  tableKey: kms.IKey;
}

/** Every table and queue of resources.json, by the key the service knows them by (src/infra/resources.ts). */
export class Data extends Construct {
  readonly tables: Record<TableKey, dynamodb.TableV2>;
  readonly queues: Record<QueueKey, sqs.Queue>;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const names = resourceNames(props.resourcePrefix);
    const byName = new Map<string, dynamodb.TableV2>();
    for (const table of tableDefinitions(props.resourcePrefix) as unknown as TableDefinition[]) {
      const logicalId = table.TableName.slice(props.resourcePrefix.length);
      byName.set(table.TableName, new dynamodb.TableV2(this, logicalId, tableProps(table, props.tableKey)));
    }
    const queues = new Map<string, sqs.Queue>();
    for (const queue of queueDefinitions(props.resourcePrefix)) {
      const logicalId = queue.QueueName.slice(props.resourcePrefix.length).replace(/[^A-Za-z0-9]/g, '');
      queues.set(queue.QueueName, new sqs.Queue(this, logicalId, queueProps(queue, queues)));
    }
    const pick = <K extends string, V>(wanted: Record<K, string>, made: Map<string, V>, what: string) =>
      Object.fromEntries(
        Object.entries<string>(wanted).map(([key, name]) => {
          const found = made.get(name);
          if (!found) throw new Error(`the service expects ${what} ${name}, which resources.json does not define`);
          return [key, found];
        }),
      ) as Record<K, V>;
    this.tables = pick(names.tables, byName, 'table');
    this.queues = pick(names.queues, queues, 'queue');
  }
}
