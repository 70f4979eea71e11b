/**
 * The whole service in-process for end-to-end tests: real emulator, real queues, real workers,
 * isolated by a unique resource prefix.
 */
import { loadConfig, type Config } from '../../src/config/config';
import { createLogger } from '../../src/observability/logger';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { putEventInventory, type TicketTypeInput } from '../../src/participants';
import { readNotification } from '../../src/participants/records';
import { toMinorUnits } from '../../src/money/money';
import { startService, type Core } from '../../src/service';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TEST_AUTH_ENV } from './auth';
import { createTestAws, TEST_AWS_ENV, type TestAws } from './aws';

export interface TestService {
  aws: TestAws;
  core: Core;
  config: Config;
  /** http://127.0.0.1:<port> of the API. */
  baseUrl: string;
  /** http://127.0.0.1:<port>/metrics, when METRICS_PORT was given. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

export function testConfig(prefix: string, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    ...TEST_AWS_ENV,
    AWS_REGION: 'us-east-1',
    RESOURCE_PREFIX: prefix,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    PORT: '0',
    HOLD_SECONDS: '30',
    PAYMENT_SLOW_MS: '200',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    RECEIVE_WAIT_SECONDS: '1',
    MAX_RECEIVES: '5',
    WORKER_CONCURRENCY: '8',
    STALLED_AFTER_MS: '60000',
    SWEEP_INTERVAL_MS: '60000',
    ...TEST_AUTH_ENV,
    ...overrides,
  });
}

export interface TestServiceOptions {
  /** Run the workers in this process (default true); false for tests that spawn worker processes. */
  inProcessWorkers?: boolean;
  /** Run the sweeper (default false: tests that need it say so). */
  sweeper?: boolean;
  label?: string;
}

/** The API (on a free port) and, unless told otherwise, the workers, on fresh resources. */
export async function startTestService(
  overrides: Record<string, string> = {},
  options: TestServiceOptions = {},
): Promise<TestService> {
  const aws = await createTestAws(options.label ?? 'e');
  const mode = options.inProcessWorkers === false ? 'api' : 'all';
  const config = testConfig(aws.prefix, { SERVICE_MODE: mode, ...overrides });
  const running = await startService(config, createLogger(config.logLevel), { sweeper: options.sweeper ?? false });
  const port = (running.server?.address() as AddressInfo).port;
  return {
    aws,
    core: running.core,
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    metricsUrl: running.metricsPort === undefined ? undefined : `http://127.0.0.1:${running.metricsPort}/metrics`,
    stop: async () => {
      await running.stop();
      await aws.cleanup();
    },
  };
}

export async function seedInventory(core: Core, eventId: string, ticketTypes: TicketTypeInput[]): Promise<void> {
  await putEventInventory(core.participantDeps, eventId, `Event ${eventId}`, ticketTypes);
}

/** A fresh event with one ticket type, GA, in EUR; returns its id. */
export async function newEvent(core: Core, totalQuantity: number, price: number): Promise<string> {
  const eventId = `ev-${randomUUID()}`;
  await seedInventory(core, eventId, [
    { ticketType: 'GA', totalQuantity, priceMinor: toMinorUnits(price, 'EUR'), currency: 'EUR' },
  ]);
  return eventId;
}

/** Polls until `probe` returns a value that `done` accepts, or fails with the last value seen. */
export async function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}

/**
 * What the customer was told when the order ended, waited for: a cancelled or failed order's
 * notice is sent after its last step. One per order, keyed by the command id.
 */
export function customerNotice(core: Core, orderId: string) {
  return eventually(
    () => readNotification(core.participantDeps, `${orderId}:SendNotification`),
    (n) => n !== undefined,
    15000,
  );
}

/** Environment for a worker process (`tsx src/main.ts`) that shares this test's resources. */
export function workerEnv(config: Config, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: config.awsEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: config.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: config.sqsEndpoint,
    AWS_REGION: config.awsRegion,
    RESOURCE_PREFIX: config.resourcePrefix,
    HOLD_SECONDS: String(config.holdSeconds),
    PAYMENT_SLOW_MS: String(config.paymentSlowMs),
    RECEIVE_WAIT_SECONDS: String(config.receiveWaitSeconds),
    MESSAGE_LEASE_SECONDS: String(config.messageLeaseSeconds),
    MAX_RECEIVES: String(config.maxReceives),
    STALLED_AFTER_MS: String(config.stalledAfterMs),
    SWEEP_INTERVAL_MS: String(config.sweepIntervalMs),
    ORDER_SAGA_START_VERSION: config.sagaStartVersion,
    MACHINE_VERSION_RETRY_SECONDS: String(config.machineVersionRetrySeconds),
    SERVICE_MODE: 'worker',
    LOG_LEVEL: config.logLevel,
    ...extra,
  };
}

/** Starts an order's saga straight through the runtime (no HTTP); returns its id. */
export async function placeOrder(
  core: Core,
  order: { eventId: string; paymentToken: string; quantity?: number; customerId?: string; ticketType?: string },
): Promise<string> {
  const orderId = randomUUID();
  await core.runtime.place({
    orderId,
    customerId: order.customerId ?? 'customer-1',
    eventId: order.eventId,
    items: [{ ticketType: order.ticketType ?? 'GA', quantity: order.quantity ?? 1 }],
    paymentToken: order.paymentToken,
    correlationId: `corr-${orderId}`,
    requestHash: 'test',
  });
  return orderId;
}

/**
 * Rewrites a stored saga's machine version, as a build with that version would have written it
 * (a newer build's saga, or one rolled back to a version this build knows).
 */
export async function setMachineVersion(core: Core, orderId: string, version: string): Promise<void> {
  await core.clients.doc.send(
    new UpdateCommand({
      TableName: core.names.tables.orders,
      Key: { orderId },
      UpdateExpression: 'SET saga.machineVersion = :v',
      ExpressionAttributeValues: { ':v': version },
    }),
  );
  // A write outside the version contract: a real newer build commits (sagaVersion moves), which a
  // worker's kept copy fails on and reloads. This one does not, so the kept copy goes too.
  core.snapshots.forget(orderId);
}

/**
 * A tok_slow order (the gateway takes PAYMENT_SLOW_MS) of one seat of `eventId`, waited for until
 * its charge is being taken (awaitingPayment): time to change things under the charge.
 */
export async function orderAwaitingSlowPayment(core: Core, eventId: string): Promise<string> {
  const orderId = await placeOrder(core, { eventId, paymentToken: 'tok_slow' });
  await eventually(
    async () => (await core.store.load(orderId))?.sagaState,
    (state) => state === 'awaitingPayment',
  );
  return orderId;
}
