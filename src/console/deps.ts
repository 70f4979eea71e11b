/** What the console and the saga streams read. Built in src/service.ts beside the API's own deps. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../aws/clients';
import type { ResourceNames } from '../infra/resources';
import type { DeadLetterOps } from '../ops/dead-letter-ops';
import type { QueueDepths } from '../ops/queue-depths';
import type { StuckSagas } from '../ops/stuck-sagas';
import type { SagaStore } from '../store/saga-store';
import type { Live } from './live/live';
import type { Logger } from '../observability/logger';
import type { InspectorFeed } from './inspector-feed';
import type { SagaListing } from './saga-listing';

export interface ConsoleDeps {
  doc: DynamoDBDocumentClient;
  tables: ResourceNames['tables'];
  /** The clients the TicketOrders stream is read with (the list stream's tail: src/store/order-stream.ts). */
  streamClients?: Pick<AwsClients, 'ddb' | 'streams'>;
  store: SagaStore;
  stuck: StuckSagas;
  deadLetters: DeadLetterOps;
  queueDepths: () => Promise<QueueDepths>;
  /** STUCK_AFTER_MS. */
  stuckAfterMs: number;
  /** How often a stream reads the saga's version (ms); default 1000. */
  streamPollMs?: number;
  /** The machine version new orders start on (ORDER_SAGA_START_VERSION): the machine page's default. */
  startVersion?: string;
  /** Finds an order by its orderNumber, for the search box. */
  findByOrderNumber?: (orderNumber: string) => Promise<string | undefined>;
  now?: () => Date;
  /**
   * The process's live connections and shared polls (src/console/live/live.ts), shared with the
   * inspector feed; absent, the stream routes build their own.
   */
  live?: Live;
  logger: Logger;
}

/** What every console route's handler is given (built by src/console/room.ts consoleRouteSet). */
export interface ConsoleRoom {
  deps: ConsoleDeps;
  listing: SagaListing;
  /** INSPECTOR_RELAY: the relay page connects to Stately's inspector. */
  inspectorRelay: boolean;
  live: Live;
  inspector: InspectorFeed;
}
