/**
 * The API over real dependencies for tests: isolated tables and queues on the emulator, a real
 * SagaRuntime (store + dispatcher, no workers: placing an order writes saga v1 and sends
 * ReserveSeats to the real queue), the inventory admin, and a real Redis (or a closed port).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Express } from 'express';
import { createApp } from '../../src/routes';
import { createHealthCheck } from '../../src/api/health';
import { inventoryPortFrom } from '../../src/api/inventory';
import { createInventoryInvalidator } from '../../src/cache/inventory-cache';
import { JsonCache } from '../../src/cache/json-cache';
import { closeRedis, createRedis, type RedisClient } from '../../src/cache/redis';
import { loadConfig, type Config } from '../../src/config/config';
import { resolveQueueUrls, type QueueUrls } from '../../src/messaging/queues';
import { createLogger } from '../../src/observability/logger';
import type { ParticipantDeps } from '../../src/participants';
import { Dispatcher } from '../../src/runtime/dispatcher';
import { SagaRuntime } from '../../src/runtime/saga-runtime';
import { OrderNumbers } from '../../src/store/order-numbers';
import { OrderQueries } from '../../src/store/order-queries';
import { SagaStore } from '../../src/store/saga-store';
import { TEST_AUTH_ENV } from '../support/auth';
import { createTestAws, TEST_AWS_ENV, type TestAws } from '../support/aws';
import { DeadLetterOps } from '../../src/ops/dead-letter-ops';
import { readQueueDepths } from '../../src/ops/queue-depths';
import { StuckSagas } from '../../src/ops/stuck-sagas';
import { WaitingRoom } from '../../src/admission/waiting-room';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Nothing listens here: the app must work without its cache. */
export const CLOSED_REDIS_URL = 'redis://127.0.0.1:6390';

export interface ApiHarness {
  app: Express;
  aws: TestAws;
  config: Config;
  redis: RedisClient;
  cache: JsonCache;
  store: SagaStore;
  runtime: SagaRuntime;
  queues: QueueUrls;
  participantDeps: ParticipantDeps;
  /** What the service has written: orders, history rows, messages waiting on the inventory queue. */
  writes(): Promise<{ orders: number; events: number; reserveMessages: number }>;
  close(): Promise<void>;
}

export async function createApiHarness(
  options: { redisUrl?: string; label?: string; env?: Record<string, string> } = {},
): Promise<ApiHarness> {
  const aws = await createTestAws(options.label ?? 'api');
  // An empty value in options.env removes the variable (e.g. AUTH_PUBLIC_KEY when testing a JWKS URL).
  const config = loadConfig(
    withoutEmpty({
      ...TEST_AWS_ENV,
      AWS_REGION: 'us-east-1',
      RESOURCE_PREFIX: aws.prefix,
      REDIS_URL: options.redisUrl ?? REDIS_URL,
      HOLD_SECONDS: '60',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      MAX_BODY_BYTES: '4096',
      ...TEST_AUTH_ENV,
      ...options.env,
    }),
  );
  const logger = createLogger(config.logLevel);
  const redis = createRedis(config.redisUrl, logger);
  const cache = new JsonCache(redis, logger, { keyPrefix: aws.prefix });
  const store = new SagaStore(aws.clients.doc, aws.names.tables);
  const queues = await resolveQueueUrls(aws.clients.sqs, aws.names);
  const dispatcher = new Dispatcher(aws.clients.sqs, queues);
  const orderNumbers = new OrderNumbers(aws.clients.doc, aws.names.tables.orderNumbers);
  const runtime = new SagaRuntime({ store, dispatcher, logger, holdSeconds: config.holdSeconds, orderNumbers });
  const participantDeps: ParticipantDeps = {
    doc: aws.clients.doc,
    tables: aws.names.tables,
    logger,
    paymentSlowMs: 100,
    onInventoryChanged: createInventoryInvalidator(cache),
  };
  const orders = new OrderQueries(aws.clients.doc, aws.names.tables);
  const app = createApp({
    runtime,
    store,
    orders,
    inventory: inventoryPortFrom(participantDeps),
    cache,
    health: createHealthCheck(aws.clients, redis, aws.names),
    logger,
    redis,
    config,
    // The waiting room off by default (limit 0): mounted so its routes answer, never queueing.
    waitingRoom: new WaitingRoom(redis, logger, { keyPrefix: aws.prefix, defaultLimit: 0 }),
    ops: {
      stuck: new StuckSagas({ store, orders, stuckAfterMs: config.stuckAfterMs }),
      deadLetters: new DeadLetterOps({ sqs: aws.clients.sqs, queues, logger, store }),
      queueDepths: () => readQueueDepths(aws.clients.sqs, queues),
    },
  });
  if (options.redisUrl === undefined) await waitForRedis(redis);

  const count = async (TableName: string): Promise<number> => {
    let total = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await aws.clients.doc.send(
        new ScanCommand({ TableName, Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey }),
      );
      total += page.Count ?? 0;
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return total;
  };
  const writes = async () => {
    const { Attributes } = await aws.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queues.inventory, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return {
      orders: await count(aws.names.tables.orders),
      events: await count(aws.names.tables.events),
      reserveMessages: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
    };
  };
  return {
    app,
    aws,
    config,
    redis,
    cache,
    store,
    runtime,
    queues,
    participantDeps,
    writes,
    close: async () => {
      await closeRedis(redis);
      await aws.cleanup();
    },
  };
}

function withoutEmpty(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
}

async function waitForRedis(redis: RedisClient): Promise<void> {
  const deadline = Date.now() + 5000;
  while (redis.status !== 'ready') {
    if (Date.now() > deadline) throw new Error(`redis at ${REDIS_URL} is not reachable (status ${redis.status})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const PROBLEM_JSON = /^application\/problem\+json/;

export function uniqueId(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
