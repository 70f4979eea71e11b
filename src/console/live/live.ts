/**
 * The live side of the API in one object: the registry of open connections (expiry, per-caller
 * cap, shutdown) and the shared polls the streams and feeds read. Built once per process
 * (src/service.ts) and handed to the stream routes and the inspector feed.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ResourceNames } from '../../infra/resources';
import type { Logger } from '../../observability/logger';
import { sagasSteppedSince } from '../../store/saga-steps';
import type { SagaStore } from '../../store/saga-store';
import { ORDER_STATUSES } from '../../http/schemas';
import { ListWatch } from './list-watch';
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
  store: Pick<SagaStore, 'load' | 'loadMany' | 'history'>;
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
  const list = new ListWatch({
    steppedSince: (since) => sagasSteppedSince(deps.doc, deps.tables, ORDER_STATUSES, since),
    loadMany: (ids) => deps.store.loadMany(ids),
    pollMs,
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
