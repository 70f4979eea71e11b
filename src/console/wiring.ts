/** Builds the console's deps from the core (kept out of service.ts so the wiring is one call). */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../aws/clients';
import type { Config } from '../config/config';
import type { ResourceNames } from '../infra/resources';
import type { Logger } from '../observability/logger';
import { OrderNumbers } from '../store/order-numbers';
import type { SagaStore } from '../store/saga-store';
import type { ConsoleDeps } from './deps';

/**
 * The part of the service's core (src/service.ts Core) the console reads: named here rather than
 * imported, so that the console does not import the composition root (no service ↔ console loop).
 */
export interface ConsoleCore {
  clients: Pick<AwsClients, 'ddb' | 'streams'> & { doc: DynamoDBDocumentClient };
  names: { tables: ResourceNames['tables'] };
  store: SagaStore;
  logger: Logger;
}

export function consoleDepsFrom(
  core: ConsoleCore,
  config: Pick<Config, 'stuckAfterMs' | 'streamPollMs' | 'inspectorRelay' | 'sagaStartVersion'>,
  ops: Pick<ConsoleDeps, 'stuck' | 'deadLetters' | 'queueDepths'>,
): ConsoleDeps & { inspectorRelay: boolean } {
  return {
    doc: core.clients.doc,
    streamClients: { ddb: core.clients.ddb, streams: core.clients.streams },
    tables: core.names.tables,
    store: core.store,
    logger: core.logger,
    ...ops,
    stuckAfterMs: config.stuckAfterMs,
    streamPollMs: config.streamPollMs,
    startVersion: config.sagaStartVersion,
    inspectorRelay: config.inspectorRelay,
    findByOrderNumber: (orderNumber) =>
      new OrderNumbers(core.clients.doc, core.names.tables.orderNumbers).find(orderNumber),
  };
}
