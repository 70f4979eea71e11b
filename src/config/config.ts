/**
 * Configuration from the environment, validated by a JSON schema at start-up: a typo in a
 * variable fails the process with the variable's name instead of misbehaving later.
 */
import Ajv from 'ajv';
import {
  loadAuthConfig,
  loadSecurityConfig,
  securitySchemaProperties,
  type AuthConfig,
  type SecurityConfig,
} from './auth-config';
import { ConfigError } from './config-error';

export { ConfigError };
import { isKnownMachineVersion, knownMachineVersions, START_VERSION } from '../../machines/order-saga/registry';
import { DEFAULT_STUCK_AFTER_MS } from '../../machines/order-saga/stuck';
import { DEFAULT_SEND_BATCH_LINGER_MS, DEFAULT_SEND_BATCH_WINDOW_MS, rangeProblems } from './ranges';

export interface Config {
  /** Where DynamoDB and SQS answer (AWS_ENDPOINT_URL); undefined means real AWS. */
  awsEndpoint: string | undefined;
  // --- endpoints per service (issue 14) ---------------------------------------------------------
  /**
   * DynamoDB's endpoint: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else undefined (AWS).
   * Set explicitly on the client: the SDK reads the per-service variables only when a client has
   * no `endpoint` of its own.
   */
  dynamodbEndpoint: string | undefined;
  /** SQS's endpoint: AWS_ENDPOINT_URL_SQS, else AWS_ENDPOINT_URL, else undefined (AWS). */
  sqsEndpoint: string | undefined;
  /** Port of the Prometheus `GET /metrics` listener (METRICS_PORT); 0 picks a free one; undefined: none. */
  metricsPort: number | undefined;
  // ----------------------------------------------------------------------------------------------
  awsRegion: string;
  /** Prepended to every table and queue name, so test suites can run side by side. */
  resourcePrefix: string;
  port: number;
  redisUrl: string;
  holdSeconds: number;
  paymentSlowMs: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** Receives after which a message a handler keeps failing goes to the DLQ with its reason. */
  maxReceives: number;
  /** How many messages one worker handles at once (per queue). */
  workerConcurrency: number;
  /** Long-poll wait; short in tests so shutdown is quick. */
  receiveWaitSeconds: number;
  /** ms a message waits for others bound for the same queue before its SendMessageBatch goes (0–100, default 2). */
  sendBatchWindowMs: number;
  /**
   * ms a message to a busy queue (its previous batch went at most this long ago) may wait for others
   * before its SendMessageBatch goes (0–100, default 20; src/messaging/linger.ts).
   */
  sendBatchLingerMs: number;
  /**
   * How long a received message stays hidden from other workers; a heartbeat renews it while its
   * handler runs. It bounds how long a message held by a dead worker (and its FIFO group) waits
   * before another worker gets it, whatever the queue's own VisibilityTimeout.
   */
  messageLeaseSeconds: number;
  /** A saga that has not moved for this long gets its pending commands re-sent by the sweeper. */
  stalledAfterMs: number;
  sweepIntervalMs: number;
  /**
   * How long a saga may sit in a working state before GET /ops/sagas/stuck lists it (and the grace
   * after its hold expired while it awaits payment). Per-state rules: src/ops/stuck-sagas.ts.
   */
  stuckAfterMs: number;
  /** Largest accepted HTTP body. */
  maxBodyBytes: number;
  /** What this process runs: the API, the workers (and sweeper), or both. */
  mode: 'all' | 'api' | 'worker';
  /**
   * How a participant's reply reaches the saga: applied at once by the worker that has it
   * ('direct', the default), or through the saga's FIFO queue ('queue'). Due timers always go
   * through the queue. See toSaga in src/runtime/workers.ts.
   */
  replyDelivery: 'direct' | 'queue';
  /**
   * How the order item is written: 'full' (as earlier builds read it), 'packed' (nothing stored
   * twice) or 'compact' (packed, and the outbox's commands and null context fields left out too);
   * each only once no build that cannot read it runs. See src/store/order-item.ts.
   */
  orderItemFormat: 'full' | 'packed' | 'compact';
  /** Waiting room: orders of one event in their saga at once, for events without their own limit (0 = none). */
  admissionMaxActiveOrders: number;
  /** Fault injection (tests, chaos): the share of sent messages SQS will deliver twice. 0 in production. */
  faultDuplicateRate: number;
  /** Bearer-token verification (src/config/auth-config.ts); undefined: no AUTH_* set, the API refuses to start. */
  auth: AuthConfig | undefined;
  /** Rate limits per role, the CORS allow-list, proxy trust (src/config/auth-config.ts). */
  security: SecurityConfig;
  /**
   * The order-saga machine version new orders start on (ORDER_SAGA_START_VERSION; default the
   * registry's START_VERSION). Open sagas keep theirs. Must be a version this build has.
   */
  sagaStartVersion: string;
  /**
   * The first wait (s) before an event of a saga on a machine version this build lacks is looked
   * at again; it doubles per delivery up to 15 min (src/runtime/version-wait.ts).
   */
  machineVersionRetrySeconds: number;
  /** How often a live saga stream polls the saga's version (ms, 100..60000). */
  streamPollMs: number;
  /**
   * Open SSE streams + inspector feeds one caller (token `sub`) may hold per API process
   * (STREAM_MAX_PER_CALLER, default 10); one more is 429 with Retry-After (docs/security.md).
   */
  streamMaxPerCaller: number;
  /**
   * How long a graceful stop may take (SHUTDOWN_TIMEOUT_MS, default 10,000): live clients are told
   * to reconnect at once, in-flight requests and messages get until then, and the process exits at
   * the latest then (messages still held come back to the queue within one lease).
   */
  shutdownTimeoutMs: number;
  /** INSPECTOR_RELAY=on: serve the page that relays the inspector feed to Stately's hosted inspector. */
  inspectorRelay: boolean;
}

type Env = Record<string, string | undefined>;

const schema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    AWS_ENDPOINT_URL: { type: 'string', pattern: '^https?://' },
    AWS_ENDPOINT_URL_DYNAMODB: { type: 'string', pattern: '^https?://' },
    AWS_ENDPOINT_URL_SQS: { type: 'string', pattern: '^https?://' },
    METRICS_PORT: { type: 'string', pattern: '^[0-9]{1,5}$' },
    AWS_REGION: { type: 'string', minLength: 1 },
    RESOURCE_PREFIX: { type: 'string', pattern: '^[A-Za-z0-9_-]{0,40}$' },
    // Numeric settings are strings here; their ranges, and why, are in ./ranges.ts.
    PORT: { type: 'string' },
    REDIS_URL: { type: 'string', pattern: '^rediss?://' },
    HOLD_SECONDS: { type: 'string' },
    PAYMENT_SLOW_MS: { type: 'string' },
    LOG_LEVEL: { enum: ['error', 'warn', 'info', 'debug'] },
    MAX_RECEIVES: { type: 'string' },
    WORKER_CONCURRENCY: { type: 'string' },
    RECEIVE_WAIT_SECONDS: { type: 'string' },
    SEND_BATCH_WINDOW_MS: { type: 'string' },
    SEND_BATCH_LINGER_MS: { type: 'string' },
    MESSAGE_LEASE_SECONDS: { type: 'string' },
    STALLED_AFTER_MS: { type: 'string' },
    SWEEP_INTERVAL_MS: { type: 'string' },
    STUCK_AFTER_MS: { type: 'string' },
    MAX_BODY_BYTES: { type: 'string' },
    SERVICE_MODE: { enum: ['all', 'api', 'worker'] },
    REPLY_DELIVERY: { enum: ['direct', 'queue'] },
    ORDER_ITEM_FORMAT: { enum: ['full', 'packed', 'compact'] },
    ADMISSION_MAX_ACTIVE_ORDERS: { type: 'string' },
    FAULT_DUPLICATE_RATE: { type: 'string', pattern: '^(0(\\.[0-9]+)?|1(\\.0+)?)$' },
    ...securitySchemaProperties,
    ORDER_SAGA_START_VERSION: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,20}$' },
    MACHINE_VERSION_RETRY_SECONDS: { type: 'string' },
    STREAM_POLL_MS: { type: 'string' },
    STREAM_MAX_PER_CALLER: { type: 'string' },
    SHUTDOWN_TIMEOUT_MS: { type: 'string' },
    INSPECTOR_RELAY: { enum: ['on', 'off'] },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(schema);

/**
 * The configuration in `env`. Throws ConfigError naming every bad variable (and, for a number, its
 * range: ./ranges.ts) before anything starts.
 */
export function loadConfig(env: Env = process.env): Config {
  const valid = validate(env);
  const problems = valid
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath.slice(1) || e.params.missingProperty}: ${e.message}`);
  problems.push(...rangeProblems(env));
  const sagaStartVersion = env.ORDER_SAGA_START_VERSION ?? START_VERSION;
  if (!isKnownMachineVersion(sagaStartVersion)) {
    problems.push(
      `ORDER_SAGA_START_VERSION: ${sagaStartVersion} is not a machine version of this build (${knownMachineVersions().join(', ')})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  const int = (name: string, fallback: number): number => (env[name] === undefined ? fallback : Number(env[name]));
  return {
    awsEndpoint: env.AWS_ENDPOINT_URL || undefined,
    dynamodbEndpoint: env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined,
    sqsEndpoint: env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || undefined,
    metricsPort: env.METRICS_PORT === undefined || env.METRICS_PORT === '' ? undefined : Number(env.METRICS_PORT),
    awsRegion: env.AWS_REGION ?? 'us-east-1',
    resourcePrefix: env.RESOURCE_PREFIX ?? '',
    port: int('PORT', 8080),
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    holdSeconds: int('HOLD_SECONDS', 600),
    paymentSlowMs: int('PAYMENT_SLOW_MS', 5000),
    logLevel: (env.LOG_LEVEL as Config['logLevel'] | undefined) ?? 'info',
    maxReceives: int('MAX_RECEIVES', 5),
    workerConcurrency: int('WORKER_CONCURRENCY', 8),
    receiveWaitSeconds: int('RECEIVE_WAIT_SECONDS', 10),
    sendBatchWindowMs: int('SEND_BATCH_WINDOW_MS', DEFAULT_SEND_BATCH_WINDOW_MS),
    sendBatchLingerMs: int('SEND_BATCH_LINGER_MS', DEFAULT_SEND_BATCH_LINGER_MS),
    messageLeaseSeconds: int('MESSAGE_LEASE_SECONDS', 10),
    stalledAfterMs: int('STALLED_AFTER_MS', 30000),
    sweepIntervalMs: int('SWEEP_INTERVAL_MS', 10000),
    stuckAfterMs: int('STUCK_AFTER_MS', DEFAULT_STUCK_AFTER_MS),
    maxBodyBytes: int('MAX_BODY_BYTES', 16 * 1024),
    mode: (env.SERVICE_MODE as Config['mode'] | undefined) ?? 'all',
    replyDelivery: (env.REPLY_DELIVERY as Config['replyDelivery'] | undefined) ?? 'direct',
    orderItemFormat: (env.ORDER_ITEM_FORMAT as Config['orderItemFormat'] | undefined) ?? 'compact',
    admissionMaxActiveOrders: int('ADMISSION_MAX_ACTIVE_ORDERS', 0),
    faultDuplicateRate: env.FAULT_DUPLICATE_RATE === undefined ? 0 : Number(env.FAULT_DUPLICATE_RATE),
    auth: loadAuthConfig(env),
    security: loadSecurityConfig(env),
    sagaStartVersion,
    machineVersionRetrySeconds: int('MACHINE_VERSION_RETRY_SECONDS', 30),
    streamPollMs: int('STREAM_POLL_MS', 1000),
    streamMaxPerCaller: int('STREAM_MAX_PER_CALLER', 10),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10_000),
    inspectorRelay: env.INSPECTOR_RELAY === 'on',
  };
}
