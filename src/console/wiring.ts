/** Builds the console's deps from the core (kept out of service.ts so the wiring is one call). */
import type { Config } from '../config/config';
import type { Core } from '../service';
import { OrderNumbers } from '../store/order-numbers';
import type { ConsoleDeps } from './deps';

export function consoleDepsFrom(
  core: Core,
  config: Pick<Config, 'stuckAfterMs' | 'streamPollMs' | 'inspectorRelay' | 'sagaStartVersion'>,
  ops: Pick<ConsoleDeps, 'stuck' | 'deadLetters' | 'queueDepths'>,
): ConsoleDeps & { inspectorRelay: boolean } {
  return {
    doc: core.clients.doc,
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
