/**
 * The one route table, and the app built from it. Composition-root level: the only file that
 * sees both rooms. The API's routes are declared in src/api/routes/ (API_ROUTES), the console's in
 * src/console/ (CONSOLE_ROUTES); each declaration names its method, path, roles, limiter, schemas,
 * statuses and handler (src/http/route.ts). Express registration, role checks, limiters,
 * validation, 405s, the public requests and /openapi.json are all derived from ROUTE_TABLE.
 */
import type express from 'express';
import { API_ROUTES, createApiApp, type AppDeps } from './api/app';
import type { ConsoleDeps } from './console/deps';
import { consoleRouteSet, CONSOLE_ROUTES } from './console/room';
import type { RouteDoc } from './http/route';

/** Every route the service declares, in the order OpenAPI lists them. */
export const ROUTE_TABLE: readonly RouteDoc[] = [...API_ROUTES, ...CONSOLE_ROUTES];

export interface ServiceAppDeps extends AppDeps {
  /** The console (/console), the saga streams and the inspector feed; absent, none is served. */
  console?: ConsoleDeps & { inspectorRelay?: boolean };
}

/** The service's HTTP app: the API, and the console when its deps are given. */
export function createApp(deps: ServiceAppDeps): express.Express {
  const { console: consoleDeps, ...api } = deps;
  return createApiApp(api, {
    documented: ROUTE_TABLE,
    rooms: consoleDeps ? [consoleRouteSet(consoleDeps)] : [],
  });
}
