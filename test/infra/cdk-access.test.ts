/**
 * Least privilege, checked against what the code really calls. An API-mode service and a
 * worker-mode service (src/service.ts, as the two ECS services run them) share one set of tables
 * and queues on the local engines; every AWS call each process makes is recorded by SDK
 * middleware while orders complete, fail, are cancelled, a poison message is dead-lettered and
 * redriven, the operator routes, the console, health and /metrics are read and the sweeper runs.
 * Every recorded call, turned into its IAM action and resource, must be allowed to that mode by
 * infra/access.ts; and the task roles in the synthesized template must grant exactly what
 * infra/access.ts says.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ACCESS, STREAM_ACTIONS, type ServiceMode } from '../../infra/access';
import { synthesize } from '../../infra/synth';
import { resourceNames, type QueueKey, type TableKey } from '../../src/infra/resources';
import { resolveQueueUrls } from '../../src/messaging/queues';
import { createLogger } from '../../src/observability/logger';
import { createCoreSweeper, startService, type RunningService } from '../../src/service';
import type { AddressInfo } from 'node:net';
import { as } from '../support/auth';
import { createTestAws, type TestAws } from '../support/aws';
import { http, postOrder } from '../support/http';
import { eventually, testConfig } from '../support/service';

/** One IAM authorization a call needs: the action and the table (or its indexes) or queue. */
interface Need {
  action: string;
  table?: TableKey;
  index?: boolean;
  /** On the table's stream (DynamoDB Streams). */
  stream?: boolean;
  queue?: QueueKey;
}

type Input = Record<string, unknown>;

/** The IAM authorizations one recorded SDK call needs (docs: DynamoDB and SQS API permissions). */
function needsOf(command: string, input: Input, names: ReturnType<typeof resourceNames>): Need[] {
  const tableKey = (name: unknown): TableKey => {
    const found = Object.entries(names.tables).find(([, n]) => n === name);
    if (!found) throw new Error(`a call on an unknown table ${String(name)}`);
    return found[0] as TableKey;
  };
  const queueKey = (urlOrName: unknown): QueueKey => {
    const name = String(urlOrName).slice(String(urlOrName).lastIndexOf('/') + 1);
    const found = Object.entries(names.queues).find(([, n]) => n === name);
    if (!found) throw new Error(`a call on an unknown queue ${name}`);
    return found[0] as QueueKey;
  };
  const op = command.replace(/Command$/, '');
  const onTable = (action: string, i: Input): Need => ({
    action: `dynamodb:${action}`,
    table: tableKey(i.TableName),
    index: i.IndexName !== undefined,
  });
  switch (op) {
    case 'GetItem':
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
    case 'Query':
    case 'Scan':
    case 'DescribeTable':
      return [onTable(op, input)];
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys(input.RequestItems as Input).map((t) => onTable(op, { TableName: t }));
    case 'TransactWriteItems':
      return (input.TransactItems as Array<Record<string, Input>>).map((item) => {
        const [kind, body] = Object.entries(item)[0];
        const action = {
          Put: 'PutItem',
          Update: 'UpdateItem',
          Delete: 'DeleteItem',
          ConditionCheck: 'ConditionCheckItem',
        }[kind];
        if (!action) throw new Error(`transaction item ${kind}`);
        return onTable(action, body);
      });
    case 'TransactGetItems':
      return (input.TransactItems as Array<{ Get: Input }>).map((item) => onTable('GetItem', item.Get));
    // DynamoDB Streams, on the stream's ARN (`<table ARN>/stream/<label>`). A GetRecords names only
    // its shard iterator (opaque): the only stream the service reads is TicketOrders'.
    case 'DescribeStream':
    case 'GetShardIterator': {
      const table = /:table\/([^/]+)\/stream\//.exec(String(input.StreamArn))?.[1];
      return [{ action: `dynamodb:${op}`, table: tableKey(table), stream: true }];
    }
    case 'GetRecords':
      return [{ action: 'dynamodb:GetRecords', table: 'orders', stream: true }];
    case 'GetQueueUrl':
      return [{ action: 'sqs:GetQueueUrl', queue: queueKey(input.QueueName) }];
    case 'SendMessage':
    case 'SendMessageBatch':
      return [{ action: 'sqs:SendMessage', queue: queueKey(input.QueueUrl) }];
    case 'DeleteMessage':
    case 'DeleteMessageBatch':
      return [{ action: 'sqs:DeleteMessage', queue: queueKey(input.QueueUrl) }];
    case 'ChangeMessageVisibility':
    case 'ChangeMessageVisibilityBatch':
      return [{ action: 'sqs:ChangeMessageVisibility', queue: queueKey(input.QueueUrl) }];
    case 'ReceiveMessage':
    case 'GetQueueAttributes':
      return [{ action: `sqs:${op}`, queue: queueKey(input.QueueUrl) }];
    default:
      throw new Error(`no IAM mapping for ${command}: add it to this test and to infra/access.ts`);
  }
}

const allowed = (mode: ServiceMode, need: Need): boolean => {
  const access = ACCESS[mode];
  if (need.queue) return access.queues[need.queue]?.includes(need.action as never) ?? false;
  if (need.index) return need.action === 'dynamodb:Query' && access.indexes.includes(need.table!);
  if (need.stream)
    return (STREAM_ACTIONS as readonly string[]).includes(need.action) && access.streams.includes(need.table!);
  return access.tables[need.table!]?.includes(need.action as never) ?? false;
};
const label = (n: Need) =>
  `${n.action} ${n.queue ?? `${n.table}${n.index ? '/index/*' : ''}${n.stream ? '/stream' : ''}`}`;

/** Records every call made through these clients (the document client shares the DynamoDB client's stack). */
function record(
  clients: { ddb: DynamoDBClient; streams: DynamoDBStreamsClient; sqs: SQSClient },
  calls: Array<{ command: string; input: Input }>,
) {
  // At 'serialize', after the document client has turned its commands into DynamoDB's own (GetCommand -> GetItem).
  const options = { step: 'serialize', name: 'recordIamNeeds', priority: 'high' } as const;
  clients.ddb.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push({ command: context.commandName ?? '?', input: args.input as Input });
      return next(args);
    },
    options,
  );
  clients.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push({ command: context.commandName ?? '?', input: args.input as Input });
      return next(args);
    },
    options,
  );
  clients.streams.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push({ command: context.commandName ?? '?', input: args.input as Input });
      return next(args);
    },
    options,
  );
}

describe('least privilege per SERVICE_MODE', () => {
  let aws: TestAws;
  let api: RunningService;
  let worker: RunningService;
  let baseUrl: string;
  const calls: Record<ServiceMode, Array<{ command: string; input: Input }>> = { api: [], worker: [] };

  beforeAll(async () => {
    aws = await createTestAws('iam');
    const logger = createLogger('error');
    const env = { METRICS_PORT: '0', PAYMENT_SLOW_MS: '1500', STALLED_AFTER_MS: '60000' };
    api = await startService(testConfig(aws.prefix, { ...env, SERVICE_MODE: 'api' }), logger, { sweeper: false });
    worker = await startService(testConfig(aws.prefix, { ...env, SERVICE_MODE: 'worker' }), logger, { sweeper: false });
    record(api.core.clients, calls.api);
    record(worker.core.clients, calls.worker);
    // What each process did at start, before the recorders: resolve every queue URL.
    await resolveQueueUrls(api.core.clients.sqs, api.core.names);
    await resolveQueueUrls(worker.core.clients.sqs, worker.core.names);
    baseUrl = `http://127.0.0.1:${(api.server!.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.allSettled([api?.stop(), worker?.stop()]);
    await aws?.cleanup();
  });

  it('calls nothing infra/access.ts does not grant that mode', async () => {
    const organizer = as.organizer();
    const operator = as.operator();
    const repair = as.repair();
    const eventId = `ev-${randomUUID()}`;
    const put = await http(
      baseUrl,
      'PUT',
      `/events/${eventId}/inventory`,
      { eventName: 'IAM', ticketTypes: [{ ticketType: 'GA', totalQuantity: 20, price: 10, currency: 'EUR' }] },
      organizer,
    );
    expect(put.status).toBeLessThan(300);
    expect((await http(baseUrl, 'GET', `/events/${eventId}/inventory`, undefined, organizer)).status).toBe(200);

    const customerId = `c-${randomUUID()}`;
    const place = async (paymentToken: string) => {
      const res = await postOrder<{ orderId: string }>(baseUrl, { customerId, eventId, paymentToken });
      expect(res.status).toBe(202);
      return res.body.orderId;
    };
    const statusOf = async (orderId: string) =>
      (await http<{ status: string }>(baseUrl, 'GET', `/orders/${orderId}`, undefined, as.customer(customerId))).body
        .status;
    const completed = await place('tok_success');
    const declined = await place('tok_declined');
    const cancelled = await place('tok_slow');
    await eventually(
      () => statusOf(cancelled),
      (s) => s !== 'PENDING' && s !== undefined,
    );
    await http(baseUrl, 'POST', `/orders/${cancelled}/cancel`, {}, as.customer(customerId));
    for (const orderId of [completed, declined, cancelled]) {
      await eventually(
        () => statusOf(orderId),
        (s) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(s),
      );
    }

    // A poison message on a work queue: the worker dead-letters it; the operator looks, redrives, deletes.
    const urls = worker.core.queues;
    await aws.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: urls.inventory, MessageBody: '{"not":"a command"}' }),
    );
    const dlq = await eventually(
      async () =>
        (await http<{ messages: Array<{ id: string }> }>(baseUrl, 'GET', '/ops/dlq', undefined, operator)).body
          .messages ?? [],
      (m) => m.length > 0,
    );
    await http(baseUrl, 'POST', '/ops/dlq/redrive', { ids: [dlq[0].id], reason: 'iam test' }, repair);
    const again = await eventually(
      async () =>
        (await http<{ messages: Array<{ id: string }> }>(baseUrl, 'GET', '/ops/dlq', undefined, operator)).body
          .messages ?? [],
      (m) => m.length > 0,
    );
    await http(baseUrl, 'DELETE', `/ops/dlq/${again[0].id}`, { reason: 'iam test' }, repair);

    // The read side: orders, sagas, operator routes, console, health, metrics, a live stream.
    const reads = [
      ['/orders', as.customer(customerId)],
      [`/orders/${completed}/queue`, as.customer(customerId)],
      ['/sagas?status=COMPLETED', operator],
      [`/sagas/${completed}`, operator],
      ['/ops/overview', operator],
      ['/ops/sagas/stuck', operator],
      ['/ops/sagas/machine-versions', operator],
      ['/console', operator],
      ['/console/sagas', operator],
      [`/console/sagas/${completed}`, operator],
      ['/console/dlq', operator],
      ['/actuator/health', {}],
    ] as const;
    for (const [route, headers] of reads) await fetch(`${baseUrl}${route}`, { headers }).then((r) => r.text());
    await http(baseUrl, 'POST', `/ops/sagas/${completed}/retry`, { reason: 'iam test' }, repair);
    const stream = new AbortController();
    await fetch(`${baseUrl}/sagas/${completed}/stream`, { headers: operator, signal: stream.signal })
      .then(async (r) => {
        setTimeout(() => stream.abort(), 1500);
        await r.text();
      })
      .catch(() => undefined);
    // The list stream tails the TicketOrders stream (DescribeTable, DescribeStream, GetShardIterator, GetRecords).
    const list = new AbortController();
    await fetch(`${baseUrl}/sagas/stream`, { headers: operator, signal: list.signal })
      .then(async (r) => {
        setTimeout(() => list.abort(), 2500);
        await r.text();
      })
      .catch(() => undefined);
    for (const running of [api, worker]) {
      await fetch(`http://127.0.0.1:${running.metricsPort}/metrics`).then((r) => r.text());
    }
    await createCoreSweeper(worker.core).sweepOnce();

    const names = resourceNames(aws.prefix);
    const denied: Record<ServiceMode, string[]> = { api: [], worker: [] };
    const seen: Record<ServiceMode, Set<string>> = { api: new Set(), worker: new Set() };
    for (const mode of ['api', 'worker'] as const) {
      for (const call of calls[mode]) {
        for (const need of needsOf(call.command, call.input, names)) {
          seen[mode].add(label(need));
          if (!allowed(mode, need)) denied[mode].push(`${label(need)} (${call.command})`);
        }
      }
    }
    expect({ api: [...new Set(denied.api)], worker: [...new Set(denied.worker)] }).toEqual({ api: [], worker: [] });
    // The recording saw the work of each mode, so the check above is not vacuous.
    expect([...seen.api]).toEqual(
      expect.arrayContaining([
        'dynamodb:PutItem orders',
        'dynamodb:Query orders/index/*',
        'dynamodb:GetRecords orders/stream',
        'sqs:SendMessage inventory',
        'sqs:ReceiveMessage dlq',
        'sqs:DeleteMessage dlq',
      ]),
    );
    expect([...seen.worker]).toEqual(
      expect.arrayContaining([
        'sqs:ReceiveMessage saga',
        'sqs:ReceiveMessage inventory',
        'sqs:SendMessage dlq',
        'dynamodb:UpdateItem inventory',
        'dynamodb:PutItem reservations',
        'dynamodb:Query orders/index/*',
      ]),
    );
    // What each mode is granted and was not seen here (paths this run did not take), for the reader.
    const granted = (mode: ServiceMode) => [
      ...Object.entries(ACCESS[mode].tables).flatMap(([t, actions]) => actions.map((a) => `${a} ${t}`)),
      ...ACCESS[mode].indexes.map((t) => `dynamodb:Query ${t}/index/*`),
      ...ACCESS[mode].streams.flatMap((t) => STREAM_ACTIONS.map((a) => `${a} ${t}/stream`)),
      ...Object.entries(ACCESS[mode].queues).flatMap(([q, actions]) => actions.map((a) => `${a} ${q}`)),
    ];
    for (const mode of ['api', 'worker'] as const) {
      const unseen = granted(mode).filter((g) => !seen[mode].has(g));
      if (unseen.length > 0) console.log(`${mode}: granted, not called in this run: ${unseen.join(', ')}`);
    }
  });

  it('synthesizes task roles that grant exactly infra/access.ts', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-out-'));
    try {
      const { stack, template } = synthesize({ outdir, nag: false });
      const logicalIds = new Map<string, string>();
      for (const [key, table] of Object.entries(stack.data.tables))
        logicalIds.set(stack.getLogicalId(table.node.defaultChild as never), key);
      for (const [key, queue] of Object.entries(stack.data.queues))
        logicalIds.set(stack.getLogicalId(queue.node.defaultChild as never), key);
      type Statement = { Action: string | string[]; Resource: unknown };
      const resources = template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
      const grantsOf = (role: string): string[] => {
        const policy = Object.entries(resources).find(
          ([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith(`Services${role}TaskTaskRoleDefaultPolicy`),
        )![1];
        const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
        return statements.flatMap((s) =>
          [s.Resource].flat().flatMap((resource) => {
            const text = JSON.stringify(resource);
            const [, id, attribute] = /"Fn::GetAtt":\["([A-Za-z0-9]+)","(Arn|StreamArn)"\]/.exec(text) ?? [];
            const key = id && logicalIds.get(id);
            if (!key) return []; // the KMS key and the metrics log group: not in the access model
            const on = attribute === 'StreamArn' ? '/stream' : text.includes('/index/*') ? '/index/*' : '';
            return [s.Action].flat().map((a) => `${a} ${key}${on}`);
          }),
        );
      };
      const expected = (mode: ServiceMode) =>
        [
          ...Object.entries(ACCESS[mode].tables).flatMap(([t, actions]) => actions.map((a) => `${a} ${t}`)),
          ...ACCESS[mode].indexes.map((t) => `dynamodb:Query ${t}/index/*`),
          ...ACCESS[mode].streams.flatMap((t) => STREAM_ACTIONS.map((a) => `${a} ${t}/stream`)),
          ...Object.entries(ACCESS[mode].queues).flatMap(([q, actions]) => actions.map((a) => `${a} ${q}`)),
        ].sort();
      expect(grantsOf('Api').sort()).toEqual(expected('api'));
      expect(grantsOf('Worker').sort()).toEqual(expected('worker'));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
