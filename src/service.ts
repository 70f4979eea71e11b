/**
 * The composition root: builds the store, dispatcher, runtime, participants, workers, sweeper
 * and API from a Config. main.ts runs it as a process; end-to-end tests run it in-process.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SagaCommand } from '../machines/order-saga';
import { createApp } from './routes';
import { createTokenVerifier } from './http/auth/verifier';
import { answerParserErrors } from './api/guards/client-errors';
import { createHealthCheck } from './api/health';
import { inventoryPortFrom } from './api/inventory';
import { createInventoryInvalidator } from './cache/inventory-cache';
import { JsonCache } from './cache/json-cache';
import { SoldOutFlags } from './cache/sold-out';
import { Admitter } from './admission/admitter';
import { WaitingRoom } from './admission/waiting-room';
import type { StoredSaga } from './store/saga-store';
import { soldOutTruth } from './participants/sold-out-truth';
import type { SoldOutHooks } from './participants/deps';
import { closeRedis, createRedis } from './cache/redis';
import { createAwsClients, destroyAwsClients, type AwsClients } from './aws/clients';
import { ConfigError, type Config } from './config/config';
import { refuseDevelopmentKeys } from './config/dev-key-check';
import { resourceNames, type ResourceNames } from './infra/resources';
import { injectDuplicateDeliveries } from './fault-injection/duplicate-delivery';
import { resolveQueueUrls, type QueueUrls } from './messaging/queues';
import { meterClients, type CostMeter } from './observability/cost-meter';
import type { Logger } from './observability/logger';
import { createMetrics, type Metrics } from './observability/metrics';
import { startMetricsServer } from './observability/metrics-server';
import { DeadLetterOps } from './ops/dead-letter-ops';
import { readQueueDepths } from './ops/queue-depths';
import { StuckSagas } from './ops/stuck-sagas';
import { OrderNumbers } from './store/order-numbers';
import { consoleDepsFrom } from './console/wiring';
import { createLive, type Live } from './console/live/live';
import { routeUpgradesThrough } from './console/live/upgrade';
import {
  handleParticipantCommand,
  InventoryCatalog,
  type ParticipantCommand,
  type ParticipantDeps,
} from './participants';
import { Dispatcher } from './runtime/dispatcher';
import { BatchingSender } from './messaging/batching-sender';
import { SagaRuntime } from './runtime/saga-runtime';
import { SnapshotCache } from './runtime/snapshot-cache';
import { Sweeper } from './runtime/sweeper';
import {
  ALL_WORKER_ROLES,
  createWorkers,
  type ParticipantHandler,
  type WorkerRole,
  type Workers,
} from './runtime/workers';
import { OrderQueries } from './store/order-queries';
import { SagaStore } from './store/saga-store';

export interface Core {
  config: Config;
  /** The AWS clients, with the cost meter the root attached (requests, capacity units, dollars of every call). */
  clients: AwsClients & { meter: CostMeter };
  names: ResourceNames;
  queues: QueueUrls;
  store: SagaStore;
  dispatcher: Dispatcher;
  runtime: SagaRuntime;
  participantDeps: ParticipantDeps;
  logger: Logger;
  /** Prometheus registry and the observers that feed it (served when config.metricsPort is set). */
  metrics: Metrics;
  /** The sagas this process wrote last (the runtime's kept copies; src/runtime/snapshot-cache.ts). */
  snapshots: SnapshotCache;
}

export interface CoreOptions {
  /** Cache invalidation hook for the inventory participant. */
  onInventoryChanged?: (eventId: string) => Promise<void>;
  /** The sold-out flags the inventory participant sets and clears (src/cache/sold-out.ts). */
  soldOut?: (store: Pick<ParticipantDeps, 'doc' | 'tables'>) => SoldOutHooks;
  /** Told when a saga ends (the waiting room frees its place). */
  onSagaEnded?: (saga: StoredSaga) => Promise<void>;
}

export async function createCore(config: Config, logger: Logger, options: CoreOptions = {}): Promise<Core> {
  // The cost meter is attached here, first, so that every call of the process is metered.
  const clients = meterClients(createAwsClients(config));
  injectDuplicateDeliveries(clients.sqs, config.faultDuplicateRate);
  const names = resourceNames(config.resourcePrefix);
  const queues = await resolveQueueUrls(clients.sqs, names);
  const store = new SagaStore(clients.doc, names.tables, config.orderItemFormat);
  const orderNumbers = new OrderNumbers(clients.doc, names.tables.orderNumbers);
  const orders = new OrderQueries(clients.doc, names.tables);
  const metrics = createMetrics({
    meter: clients.meter,
    queueDepths: () => readQueueDepths(clients.sqs, queues),
    stuckListing: () => new StuckSagas({ store, orders, stuckAfterMs: config.stuckAfterMs }).list(0),
  });
  // One batching sender per process: commands of every saga share its SendMessageBatch calls.
  const sender = new BatchingSender(clients.sqs, {
    windowMs: config.sendBatchWindowMs,
    lingerMs: config.sendBatchLingerMs,
    observer: metrics.batchObserver,
  });
  const dispatcher = new Dispatcher(clients.sqs, queues, undefined, sender);
  const snapshots = new SnapshotCache();
  const runtime = new SagaRuntime({
    store,
    dispatcher,
    logger,
    holdSeconds: config.holdSeconds,
    orderNumbers,
    startVersion: config.sagaStartVersion,
    versionWaitBaseMs: config.machineVersionRetrySeconds * 1000,
    onSagaEnded: options.onSagaEnded,
    observer: metrics.sagaObserver,
    // The sagas this process wrote last: their next event skips the load (issue 25, decision 4).
    snapshots,
  });
  const participantDeps: ParticipantDeps = {
    doc: clients.doc,
    tables: names.tables,
    logger,
    paymentSlowMs: config.paymentSlowMs,
    onInventoryChanged: options.onInventoryChanged,
    // The reserve's ticket types kept per worker: its catalog Query skipped (issue 25).
    catalog: new InventoryCatalog(),
  };
  if (options.soldOut) participantDeps.soldOut = options.soldOut(participantDeps);
  return { config, clients, names, queues, store, dispatcher, runtime, participantDeps, logger, metrics, snapshots };
}

/**
 * A participant handler. Its impossible commands throw PermanentCommandError, a
 * PoisonMessageError, so the consumer sends them straight to the DLQ.
 */
function participantHandler(deps: ParticipantDeps): ParticipantHandler {
  return async (command: SagaCommand, correlationId: string) => {
    // The participant's log lines carry the order's correlation id.
    const logger = deps.logger.child({ correlationId });
    return handleParticipantCommand(command as ParticipantCommand, { ...deps, logger });
  };
}

export function createCoreWorkers(core: Core, roles: WorkerRole[] = ALL_WORKER_ROLES): Workers {
  const handler = participantHandler(core.participantDeps);
  return createWorkers(
    {
      sqs: core.clients.sqs,
      queues: core.queues,
      config: core.config,
      logger: core.logger,
      runtime: core.runtime,
      dispatcher: core.dispatcher,
      participants: { inventory: handler, payment: handler, notification: handler },
      observer: core.metrics.consumerObserver,
    },
    roles,
  );
}

export function createCoreSweeper(core: Core): Sweeper {
  return new Sweeper({
    store: core.store,
    dispatcher: core.dispatcher,
    logger: core.logger,
    stalledAfterMs: core.config.stalledAfterMs,
    intervalMs: core.config.sweepIntervalMs,
  });
}

export function closeCore(core: Core): void {
  destroyAwsClients(core.clients);
}

export interface RunningService {
  core: Core;
  /** The HTTP server, when this process serves the API. */
  server?: Server;
  /** The port GET /metrics answers on, when config.metricsPort is set. */
  metricsPort?: number;
  /** Graceful: stop accepting, let in-flight work finish, close connections. */
  stop(): Promise<void>;
}

const sleepUntil = (deadline: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref());

/**
 * Stops the listener from accepting, closes idle keep-alive connections at once, lets in-flight
 * requests answer, and cuts whatever is still open 1 s before `deadline` (Node >= 18.2's
 * closeIdleConnections / closeAllConnections: close() alone waits for every connection).
 */
async function closeServer(serving: { listening: Server; stopUpgrades: () => void }, deadline: number): Promise<void> {
  const { listening } = serving;
  serving.stopUpgrades();
  const closed = new Promise<void>((resolve) => listening.close(() => resolve()));
  listening.closeIdleConnections();
  // Connections that were busy become idle as their request ends: close them then.
  const sweep = setInterval(() => listening.closeIdleConnections(), 100);
  const cut = setTimeout(() => listening.closeAllConnections(), Math.max(0, deadline - Date.now() - 1000));
  try {
    await closed;
  } finally {
    clearInterval(sweep);
    clearTimeout(cut);
  }
}

/** Starts what `config.mode` asks for: the API, the workers and sweeper, or all of them. */
export async function startService(
  config: Config,
  logger: Logger,
  options: { sweeper?: boolean } = {},
): Promise<RunningService> {
  const redis = createRedis(config.redisUrl, logger);
  const cache = new JsonCache(redis, logger, { keyPrefix: config.resourcePrefix });
  let soldOut: SoldOutFlags | undefined;
  const waitingRoom = new WaitingRoom(redis, logger, {
    keyPrefix: config.resourcePrefix,
    defaultLimit: config.admissionMaxActiveOrders,
  });
  const core = await createCore(config, logger, {
    onSagaEnded: async (saga) => {
      await waitingRoom.ended(saga.eventId, saga.orderId);
    },
    onInventoryChanged: createInventoryInvalidator(cache),
    soldOut: (store) => (soldOut = new SoldOutFlags(cache, soldOutTruth(store))),
  });
  const stops: Array<() => Promise<void>> = [];
  let server: Server | undefined;
  let live: Live | undefined;
  let serving: { listening: Server; stopUpgrades: () => void } | undefined;

  if (config.mode !== 'worker') {
    if (config.auth) await refuseDevelopmentKeys(config.auth);
    if (!config.auth)
      throw new ConfigError(
        'the API needs authentication: set AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL or AUTH_PUBLIC_KEY',
      );
    // One verifier (and one JWKS cache) for the HTTP routes and the inspector's WebSocket.
    const verifyToken = createTokenVerifier(config.auth);
    const orders = new OrderQueries(core.clients.doc, core.names.tables);
    const stuck = new StuckSagas({ store: core.store, orders, stuckAfterMs: config.stuckAfterMs });
    const deadLetters = new DeadLetterOps({ sqs: core.clients.sqs, queues: core.queues, logger, store: core.store });
    const queueDepths = () => readQueueDepths(core.clients.sqs, core.queues);
    live = createLive({
      doc: core.clients.doc,
      tables: core.names.tables,
      store: core.store,
      clients: core.clients,
      logger,
      maxPerCaller: config.streamMaxPerCaller,
      pollMs: config.streamPollMs,
      clockSkewSeconds: config.auth.clockSkewSeconds,
    });
    const app = createApp({
      verifyToken,
      runtime: core.runtime,
      store: core.store,
      orders,
      inventory: inventoryPortFrom(core.participantDeps),
      cache,
      soldOut,
      waitingRoom,
      health: createHealthCheck(core.clients, redis, core.names),
      logger,
      redis,
      config,
      ops: { stuck, deadLetters, queueDepths },
      console: { ...consoleDepsFrom(core, config, { stuck, deadLetters, queueDepths }), live },
    });
    const listening = app.listen(config.port);
    answerParserErrors(listening);
    server = listening;
    await new Promise<void>((resolve, reject) => listening.once('listening', resolve).once('error', reject));
    // WebSocket upgrades run through the same chain as requests (token, limits, role).
    const stopUpgrades = routeUpgradesThrough(listening, app);
    serving = { listening, stopUpgrades };
    logger.info('API listening', { port: (listening.address() as AddressInfo).port });
    const admitter = new Admitter({ room: waitingRoom, runtime: core.runtime, store: core.store, logger, soldOut });
    admitter.start();
    stops.unshift(() => admitter.stop());
  }
  let metricsPort: number | undefined;
  if (config.metricsPort !== undefined) {
    const metricsServer = await startMetricsServer(core.metrics.registry, config.metricsPort);
    metricsPort = metricsServer.port;
    stops.push(() => metricsServer.stop());
    logger.info('metrics listening', { port: metricsPort, path: '/metrics' });
  }
  if (config.mode !== 'api') {
    const workers = createCoreWorkers(core);
    workers.start();
    stops.push(() => workers.stop());
    if (options.sweeper !== false) {
      const sweeper = createCoreSweeper(core);
      sweeper.start();
      stops.push(() => sweeper.stop());
    }
    logger.info('workers started', { prefix: config.resourcePrefix, endpoint: config.awsEndpoint ?? 'aws' });
  }
  // On stop, the sends of requests and steps still running go at once instead of waiting for company.
  stops.push(() => core.dispatcher.flush());
  return {
    core,
    server,
    metricsPort,
    stop: async () => {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      // 1. Stop taking work: no new connection or upgrade, no new stream or feed (503).
      const closed = serving ? closeServer(serving, deadline) : Promise.resolve();
      // 2. Tell live clients to reconnect (SSE `event: shutdown` + retry, WebSocket 1001) and end them.
      const told = live?.shutdown() ?? 0;
      if (told > 0) logger.info('shutdown: live connections told to reconnect', { count: told });
      // 3. Admitter, workers (no new receives; in-flight messages finish or are handed back), sweeper.
      const stopped = Promise.allSettled(stops.map((stop) => stop()));
      // Bounded: past the deadline, whatever still runs is abandoned (main.ts then exits).
      await Promise.race([Promise.all([closed, stopped]), sleepUntil(deadline)]);
      await closeRedis(redis);
      closeCore(core);
    },
  };
}
