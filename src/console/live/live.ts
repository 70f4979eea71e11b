/**
 * The live side of the API in one object: the registry of open connections (expiry, per-caller
 * cap, shutdown) and the shared polls the streams and feeds read. Built once per process
 * (src/service.ts) and handed to the stream routes and the inspector feed.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../../aws/clients';
import type { ResourceNames } from '../../infra/resources';
import type { Logger } from '../../observability/logger';
import { OrderStreamTail, type OrderStepSource } from '../../store/order-stream';
import type { SagaStore } from '../../store/saga-store';
import { ORDER_STATUSES } from '../../http/schemas';
import { ListWatch, type ListStep } from './list-watch';
import { LiveConnections } from './live-connections';
import { SagaWatches } from './saga-watches';

export interface Live {
  connections: LiveConnections;
  sagas: SagaWatches;
  list: ListWatch;
  /** Ends every live connection with 'shutdown' and stops the polls; returns how many were open. */
  shutdown(): number;
}

/** Defaults: STREAM_MAX_PER_CALLER, STREAM_POLL_MS, AUTH_CLOCK_SKEW_SECONDS. */
export const LIVE_DEFAULTS = { maxPerCaller: 10, pollMs: 1000, clockSkewSeconds: 0 } as const;

export interface LiveDeps {
  doc: DynamoDBDocumentClient;
  tables: Pick<ResourceNames['tables'], 'orders'>;
  store: Pick<SagaStore, 'load' | 'loadMany' | 'history' | 'createdInStatus'>;
  /**
   * The clients the TicketOrders stream is read with (src/store/order-stream.ts). Absent (an app
   * built without AWS clients, in tests of the HTTP layer alone), the list stream serves only its
   * listing fallback.
   */
  clients?: Pick<AwsClients, 'ddb' | 'streams'>;
  logger: Logger;
  /** STREAM_MAX_PER_CALLER (default 10). */
  maxPerCaller?: number;
  /** STREAM_POLL_MS (default 1000). */
  pollMs?: number;
  /** AUTH_CLOCK_SKEW_SECONDS: a connection ends at the token's exp plus this. */
  clockSkewSeconds?: number;
}

export function createLive(deps: LiveDeps): Live {
  const pollMs = deps.pollMs ?? LIVE_DEFAULTS.pollMs;
  const connections = new LiveConnections({
    maxPerCaller: deps.maxPerCaller ?? LIVE_DEFAULTS.maxPerCaller,
    clockSkewSeconds: deps.clockSkewSeconds ?? LIVE_DEFAULTS.clockSkewSeconds,
    logger: deps.logger,
  });
  const sagas = new SagaWatches(deps.store, pollMs, deps.logger);
  const steps: OrderStepSource = deps.clients
    ? new OrderStreamTail({
        ddb: deps.clients.ddb,
        streams: deps.clients.streams,
        tableName: deps.tables.orders,
        idleMs: Math.min(pollMs, 1000),
        warn: (message, fields) => deps.logger.warn(message, fields),
      })
    : NO_STREAM;
  const list = new ListWatch({
    steps,
    recentSince: (since) => recentSince(deps.store, since),
    logger: deps.logger,
  });
  return {
    connections,
    sagas,
    list,
    shutdown: () => {
      const told = connections.shutdown();
      sagas.close();
      list.close();
      return told;
    },
  };
}

/** A step source with no stream: every resume reads the listing fallback, nothing live comes. */
const NO_STREAM: OrderStepSource = {
  subscribe: () => () => undefined,
  stepsAfter: () => undefined,
  close: () => undefined,
};

/** The newest orders of each status read by a resume the stream tail cannot serve (per status). */
export const RESUME_FALLBACK_PER_STATUS = 100;

/**
 * The list stream's fallback for a resume older than the stream tail holds: the newest
 * RESUME_FALLBACK_PER_STATUS orders of each status (StatusOrdersIndex, newest created first: one
 * Query per status, 6) read from the base table (BatchGetItem), those whose item changed at or
 * after `since`, each once as it is now. Bounded: an older order that stepped since is not shown
 * (the list page is the truth).
 */
async function recentSince(store: Pick<SagaStore, 'loadMany' | 'createdInStatus'>, since: string): Promise<ListStep[]> {
  const pages = await Promise.all(
    ORDER_STATUSES.map((status) =>
      store.createdInStatus(status, { newestFirst: true, limit: RESUME_FALLBACK_PER_STATUS }),
    ),
  );
  const current = await store.loadMany(pages.flatMap((p) => p.rows.map((r) => r.orderId)));
  return [...current.values()]
    .filter((saga) => saga.updatedAt >= since)
    .map((saga) => ({ mark: { orderId: saga.orderId, updatedAt: saga.updatedAt }, saga }));
}
