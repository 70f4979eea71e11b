/**
 * The console's room over HTTP: its pages (./routes.ts), the saga streams (./streams.ts), the
 * inspector feed (./inspector-feed.ts) and its static assets, bound to one ConsoleRoom (the deps,
 * the saga listing, the live connections and shared polls). The composition root (src/routes.ts)
 * puts CONSOLE_ROUTES in the one route table and hands consoleRouteSet to the app.
 */
import { bindRoutes, type Route, type RouteSet } from '../http/route';
import type { ConsoleDeps, ConsoleRoom } from './deps';
import { createInspectorFeed } from './inspector-feed';
import { createLive, type Live } from './live/live';
import { mountConsoleAssets, PAGE_ROUTES } from './routes';
import { SagaListing } from './saga-listing';
import { mountInspectorFeed, STREAM_ROUTES } from './streams';

/** The console's routes: the saga streams, then the pages. */
export const CONSOLE_ROUTES: ReadonlyArray<Route<ConsoleRoom>> = [...STREAM_ROUTES, ...PAGE_ROUTES];

/** The live connections and shared polls of a console without its own (tests that build the app alone). */
function liveOf(deps: ConsoleDeps): Live {
  return (
    deps.live ??
    createLive({
      doc: deps.doc,
      tables: deps.tables,
      store: deps.store,
      clients: deps.streamClients,
      logger: deps.logger,
      pollMs: deps.streamPollMs,
    })
  );
}

/** The console's routes bound to `deps`, with its static assets and the inspector feed. */
export function consoleRouteSet(deps: ConsoleDeps & { inspectorRelay?: boolean }): RouteSet {
  const live = liveOf(deps);
  const room: ConsoleRoom = {
    deps,
    listing: new SagaListing({
      store: deps.store,
      stuck: deps.stuck,
      stuckAfterMs: deps.stuckAfterMs,
      findByOrderNumber: deps.findByOrderNumber,
      now: deps.now,
    }),
    inspectorRelay: deps.inspectorRelay === true,
    live,
    inspector: createInspectorFeed({ logger: deps.logger, live }),
  };
  return {
    routes: bindRoutes(CONSOLE_ROUTES, room),
    mount: (router) => {
      mountInspectorFeed(router, room);
      mountConsoleAssets(router);
    },
  };
}
