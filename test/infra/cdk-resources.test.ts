/**
 * One source of truth: the tables and queues the CDK app synthesizes equal init-scripts/resources.json
 * and what `npm run init` (initResources) creates on the real local engines (DynamoDB Local and
 * the SQS emulator): names, key schemas, GSIs with keys and projections, TTL, streams; queue
 * names, FIFO, dead-letter queue and maxReceiveCount, visibility, retention, deduplication and
 * FIFO throughput settings.
 *
 * Each side is reduced to the same plain shape, then compared whole: a field on one side only, or
 * a value that differs, fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { synthesize } from '../../infra/synth';
import { queueDefinitions, REDRIVE_MAX_RECEIVE_COUNT, tableDefinitions } from '../../src/infra/resources';
import { createTestAws, type TestAws } from '../support/aws';

interface KeyShape {
  name: string;
  type: string;
  role: string;
}
interface TableShape {
  name: string;
  keys: KeyShape[];
  indexes: Array<{ name: string; keys: KeyShape[]; projection: string; nonKey: string[] }>;
  ttl: string | null;
  stream: string | null;
}
interface QueueShape {
  name: string;
  fifo: boolean;
  deadLetterQueue: string | null;
  maxReceiveCount: number | null;
  visibilitySeconds: number;
  retentionSeconds: number;
  contentBasedDeduplication: boolean | null;
  deduplicationScope: string | null;
  fifoThroughputLimit: string | null;
}

/** SQS's defaults, for what a definition leaves out. */
const SQS_DEFAULTS = { visibilitySeconds: 30, retentionSeconds: 345_600 };

type Key = { AttributeName?: string; KeyType?: string };
type AttributeDefinition = { AttributeName?: string; AttributeType?: string };
const keysOf = (schema: Key[], attributes: AttributeDefinition[]): KeyShape[] =>
  schema.map((k) => ({
    name: k.AttributeName!,
    type: attributes.find((a) => a.AttributeName === k.AttributeName)?.AttributeType ?? '?',
    role: k.KeyType!,
  }));
type Index = {
  IndexName?: string;
  KeySchema?: Key[];
  Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] };
};
const indexesOf = (indexes: Index[] | undefined, attributes: AttributeDefinition[]): TableShape['indexes'] =>
  (indexes ?? [])
    .map((g) => ({
      name: g.IndexName!,
      keys: keysOf(g.KeySchema ?? [], attributes),
      projection: g.Projection?.ProjectionType ?? '?',
      nonKey: [...(g.Projection?.NonKeyAttributes ?? [])].sort(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
const byName = <T extends { name: string }>(items: T[]): T[] => [...items].sort((a, b) => a.name.localeCompare(b.name));
const queueNameOfArn = (arn: string): string => arn.slice(arn.lastIndexOf(':') + 1);
/** ContentBasedDeduplication: a FIFO queue's defaults to false (as SQS's does); a standard queue has none. */
const dedupFlag = (fifo: boolean, v: string | boolean | undefined): boolean | null =>
  fifo ? v === true || v === 'true' : null;

/** resources.json, through the reader `npm run init` uses. */
function fromDefinitions(prefix: string): { tables: TableShape[]; queues: QueueShape[] } {
  const tables = tableDefinitions(prefix).map((t) => {
    const ttl = (t as { TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean } })
      .TimeToLiveSpecification;
    return {
      name: t.TableName!,
      keys: keysOf(t.KeySchema ?? [], t.AttributeDefinitions ?? []),
      indexes: indexesOf(t.GlobalSecondaryIndexes, t.AttributeDefinitions ?? []),
      ttl: ttl?.Enabled ? ttl.AttributeName : null,
      stream: t.StreamSpecification?.StreamEnabled ? (t.StreamSpecification.StreamViewType ?? null) : null,
    };
  });
  const queues = queueDefinitions(prefix).map((q) => ({
    name: q.QueueName,
    fifo: q.Attributes.FifoQueue === 'true',
    deadLetterQueue: q.DeadLetterQueue ?? null,
    maxReceiveCount: q.DeadLetterQueue ? REDRIVE_MAX_RECEIVE_COUNT : null,
    visibilitySeconds: Number(q.Attributes.VisibilityTimeout ?? SQS_DEFAULTS.visibilitySeconds),
    retentionSeconds: Number(q.Attributes.MessageRetentionPeriod ?? SQS_DEFAULTS.retentionSeconds),
    contentBasedDeduplication: dedupFlag(q.Attributes.FifoQueue === 'true', q.Attributes.ContentBasedDeduplication),
    deduplicationScope: q.Attributes.DeduplicationScope ?? null,
    fifoThroughputLimit: q.Attributes.FifoThroughputLimit ?? null,
  }));
  return { tables: byName(tables), queues: byName(queues) };
}

type CfnResource = { Type: string; Properties: Record<string, unknown> };

/** The synthesized CloudFormation template. */
function fromTemplate(template: Record<string, unknown>): { tables: TableShape[]; queues: QueueShape[] } {
  const resources = Object.entries(template.Resources as Record<string, CfnResource>);
  const tables = resources
    .filter(([, r]) => r.Type === 'AWS::DynamoDB::GlobalTable')
    .map(([, { Properties: p }]) => {
      const attributes = p.AttributeDefinitions as AttributeDefinition[];
      const ttl = p.TimeToLiveSpecification as { AttributeName: string; Enabled: boolean } | undefined;
      const stream = p.StreamSpecification as { StreamViewType: string } | undefined;
      return {
        name: p.TableName as string,
        keys: keysOf(p.KeySchema as Key[], attributes),
        indexes: indexesOf(p.GlobalSecondaryIndexes as Index[] | undefined, attributes),
        ttl: ttl?.Enabled ? ttl.AttributeName : null,
        stream: stream?.StreamViewType ?? null,
      };
    });
  const queueNames = new Map(
    resources.filter(([, r]) => r.Type === 'AWS::SQS::Queue').map(([id, r]) => [id, r.Properties.QueueName as string]),
  );
  const queues = resources
    .filter(([, r]) => r.Type === 'AWS::SQS::Queue')
    .map(([, { Properties: p }]) => {
      const redrive = p.RedrivePolicy as
        { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number } | undefined;
      return {
        name: p.QueueName as string,
        fifo: p.FifoQueue === true,
        deadLetterQueue: redrive ? (queueNames.get(redrive.deadLetterTargetArn['Fn::GetAtt'][0]) ?? '?') : null,
        maxReceiveCount: redrive?.maxReceiveCount ?? null,
        visibilitySeconds: (p.VisibilityTimeout as number | undefined) ?? SQS_DEFAULTS.visibilitySeconds,
        retentionSeconds: (p.MessageRetentionPeriod as number | undefined) ?? SQS_DEFAULTS.retentionSeconds,
        contentBasedDeduplication: dedupFlag(p.FifoQueue === true, p.ContentBasedDeduplication as boolean | undefined),
        deduplicationScope: (p.DeduplicationScope as string | undefined) ?? null,
        fifoThroughputLimit: (p.FifoThroughputLimit as string | undefined) ?? null,
      };
    });
  return { tables: byName(tables), queues: byName(queues) };
}

/** What the engines hold after `npm run init` (initResources), read back through their APIs. */
async function fromEngines(aws: TestAws, names: string[], queues: string[]) {
  const tables = await Promise.all(
    names.map(async (TableName) => {
      const { Table } = await aws.clients.ddb.send(new DescribeTableCommand({ TableName }));
      const { TimeToLiveDescription: ttl } = await aws.clients.ddb.send(new DescribeTimeToLiveCommand({ TableName }));
      const attributes = Table!.AttributeDefinitions ?? [];
      return {
        name: Table!.TableName!,
        keys: keysOf(Table!.KeySchema ?? [], attributes),
        indexes: indexesOf(Table!.GlobalSecondaryIndexes, attributes),
        ttl: ttl?.TimeToLiveStatus === 'ENABLED' ? (ttl.AttributeName ?? null) : null,
        stream: Table!.StreamSpecification?.StreamEnabled ? (Table!.StreamSpecification.StreamViewType ?? null) : null,
      };
    }),
  );
  const queueShapes = await Promise.all(
    queues.map(async (QueueName) => {
      const { QueueUrl } = await aws.clients.sqs.send(new GetQueueUrlCommand({ QueueName }));
      const { Attributes: a = {} } = await aws.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
      );
      const redrive = a.RedrivePolicy
        ? (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number | string })
        : undefined;
      return {
        name: QueueName,
        fifo: a.FifoQueue === 'true',
        deadLetterQueue: redrive ? queueNameOfArn(redrive.deadLetterTargetArn) : null,
        maxReceiveCount: redrive ? Number(redrive.maxReceiveCount) : null,
        visibilitySeconds: Number(a.VisibilityTimeout),
        retentionSeconds: Number(a.MessageRetentionPeriod),
        // Only FIFO queues have these attributes; a standard queue reports none of them.
        contentBasedDeduplication: dedupFlag(a.FifoQueue === 'true', a.ContentBasedDeduplication),
        deduplicationScope: a.FifoQueue === 'true' ? (a.DeduplicationScope ?? null) : null,
        fifoThroughputLimit: a.FifoQueue === 'true' ? (a.FifoThroughputLimit ?? null) : null,
      };
    }),
  );
  return { tables: byName(tables), queues: byName(queueShapes) };
}

describe('one source of truth: CDK = resources.json = npm run init', () => {
  let aws: TestAws;
  let outdir: string;
  let synthesized: { tables: TableShape[]; queues: QueueShape[] };

  beforeAll(async () => {
    aws = await createTestAws('cdk');
    outdir = mkdtempSync(path.join(tmpdir(), 'cdk-out-'));
    // The stack made for this run's prefix: the names must then match the engines' exactly.
    const { template } = synthesize({ outdir, context: { resourcePrefix: aws.prefix }, nag: false });
    synthesized = fromTemplate(template);
  });
  afterAll(async () => {
    rmSync(outdir, { recursive: true, force: true });
    await aws?.cleanup();
  });

  it('synthesizes exactly the tables of resources.json: keys, GSIs (keys, projections), TTL, streams', () => {
    const expected = fromDefinitions(aws.prefix).tables;
    expect(expected.length).toBeGreaterThan(0);
    expect(synthesized.tables).toEqual(expected);
  });

  it('synthesizes exactly the queues of resources.json: FIFO, DLQ and maxReceiveCount, visibility, retention', () => {
    const expected = fromDefinitions(aws.prefix).queues;
    expect(expected.some((q) => q.deadLetterQueue !== null)).toBe(true);
    expect(synthesized.queues).toEqual(expected);
  });

  it('synthesizes what npm run init creates on the local engines', async () => {
    const engines = await fromEngines(
      aws,
      synthesized.tables.map((t) => t.name),
      synthesized.queues.map((q) => q.name),
    );
    expect(engines.tables).toEqual(synthesized.tables);
    expect(engines.queues).toEqual(synthesized.queues);
  });
});
