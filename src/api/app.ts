/**
 * The HTTP API. createApiApp serves the route declarations (src/http/route.ts) over injected
 * dependencies and adds nothing global: the caller owns the clients, the Redis connection and the
 * listening socket. The composition root (src/routes.ts createApp) adds the console's routes.
 *
 * Every request: a correlation id (X-Correlation-Id in and out, on every log line, in the saga);
 * JSON bodies only, closed schemas everywhere; errors as application/problem+json; nothing is
 * written unless the whole request is valid.
 */
import cors from 'cors';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { JsonCache } from '../cache/json-cache';
import type { RedisClient } from '../cache/redis';
import type { SoldOutFlags } from '../cache/sold-out';
import type { WaitingRoom } from '../admission/waiting-room';
import { ConfigError, type Config } from '../config/config';
import type { Logger } from '../observability/logger';
import type { SagaRuntime } from '../runtime/saga-runtime';
import { InvalidCursorError, type OrderQueries } from '../store/order-queries';
import { KeptOrderItems, type SagaStore } from '../store/saga-store';
import { ASSETS_PREFIX } from '../http/assets';
import { identify, requireAuthentication } from '../http/auth/authenticate';
import { createTokenVerifier, type TokenVerifier } from '../http/auth/verifier';
import { ctxOf, requestContext } from '../http/context';
import { problemBody, ProblemError, sendProblem } from '../http/problem';
import { allowedMethods, bindRoutes, mountRoutes, publicRequests, type RouteDoc, type RouteSet } from '../http/route';
import { ROUTER_OPTIONS } from '../http/router';
import { bodyProblem, jsonBody } from './body';
import { clientErrorProblem } from './guards/client-errors';
import { createRateLimiters } from './guards/rate-limits';
import { rejectRepeatedHeaders } from './guards/single-value-headers';
import { requireWellFormedText } from './guards/well-formed-text';
import type { HealthReport } from './health';
import { CachedInventory, type InventoryPort } from './inventory';
import { HEALTH_ROUTES } from './routes/health';
import { INVENTORY_ROUTES } from './routes/inventory';
import { MACHINE_ROUTES, machinesDeps } from './routes/machines';
import { DOCS_ROUTES, mountSwaggerUi } from './routes/openapi';
import { OPS_ROUTES, type OpsDeps } from './routes/ops';
import { ORDER_ROUTES } from './routes/orders';
import { SAGA_ROUTES } from './routes/sagas';
import { WAITING_ROOM_ROUTES } from './routes/waiting-room';
import { contractLog } from './openapi-contract';
import { openApiDocument } from './openapi';
import { MachineVersionUnavailableError } from '../runtime/version-wait';

/**
 * The API's own routes, in the order OpenAPI lists them. The console's are in src/console/room.ts;
 * src/routes.ts joins both into the one table.
 */
export const API_ROUTES: readonly RouteDoc[] = [
  ...ORDER_ROUTES,
  ...WAITING_ROOM_ROUTES,
  ...SAGA_ROUTES,
  ...MACHINE_ROUTES,
  ...INVENTORY_ROUTES,
  ...HEALTH_ROUTES,
  ...OPS_ROUTES,
  ...DOCS_ROUTES,
];

export interface AppDeps {
  runtime: SagaRuntime;
  /** Strongly consistent reads of one order / saga and its history. */
  store: SagaStore;
  /** GSI listings (eventually consistent). */
  orders: OrderQueries;
  /** The inventory admin (src/participants/inventory-admin.ts), e.g. inventoryPortFrom(participantDeps). */
  inventory: InventoryPort;
  /** The Redis-backed cache; with Redis down it bypasses itself. */
  cache: JsonCache;
  /** Sold-out flags (src/cache/sold-out.ts): POST /orders answers 409 sold-out from them. */
  soldOut?: Pick<SoldOutFlags, 'flagged'>;
  /** The waiting room (src/admission/); absent, every order starts its saga at once. */
  waitingRoom?: WaitingRoom;
  /** createHealthCheck(clients, redis, names). */
  health: () => Promise<HealthReport>;
  logger: Logger;
  /** The rate limiters' shared counters (a fallback in memory while it is down). */
  redis: RedisClient;
  config: Pick<Config, 'maxBodyBytes' | 'auth' | 'security' | 'resourcePrefix'> &
    Partial<Pick<Config, 'sagaStartVersion'>>;
  /** Token verification; default: built from config.auth (which must then be set). */
  verifyToken?: TokenVerifier;
  /** The machine definition served at /machines/order-saga (default: orderSagaMachine.toJSON()). */
  machineDefinition?: () => unknown;
  /** The operator endpoints (/ops: stuck sagas, dead letters); absent, /ops is not served. */
  ops?: OpsDeps;
}

/** What the composition root adds to the API (src/routes.ts). */
export interface AppRooms {
  /** Every route the service declares (the one table): /openapi.json describes it; its public routes need no token. */
  documented: readonly RouteDoc[];
  /** Other rooms' routes, bound to their deps (the console's), served beside the API's. */
  rooms?: readonly RouteSet[];
}

/**
 * The HTTP app: the trust boundary (docs/security.md), then the API's routes and the rooms' routes
 * from their declarations (src/http/route.ts), then 405 / 404 and the problem+json error handler.
 */
export function createApiApp(deps: AppDeps, rooms: AppRooms): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // One spelling per route (src/http/router.ts): the app's own matching as strict as its routers'.
  app.set('case sensitive routing', ROUTER_OPTIONS.caseSensitive);
  app.set('strict routing', ROUTER_OPTIONS.strict);
  app.set('etag', false);

  const inventory = new CachedInventory(deps.inventory, deps.cache);
  const verify = deps.verifyToken ?? (deps.config.auth ? createTokenVerifier(deps.config.auth) : undefined);
  if (!verify)
    throw new ConfigError(
      'the API needs authentication: set AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL or AUTH_PUBLIC_KEY',
    );
  const { security } = deps.config;
  if (security.trustProxyHops > 0) app.set('trust proxy', security.trustProxyHops);
  const limiters = createRateLimiters(security.rateLimits, deps.redis, deps.config.resourcePrefix, deps.logger);

  // Tests only (test/global-setup.ts sets it): every answer is checked against /openapi.json and
  // logged there; test/global-teardown.ts fails the run on a violation (./openapi-contract.ts).
  const contractFile = process.env.OPENAPI_CONTRACT_LOG;
  if (contractFile) app.use(contractLog(contractFile, openApiDocument(rooms.documented)));

  // The trust boundary, in order (docs/security.md): who is asking, how often, for what.
  app.use(requestContext(deps.logger));
  app.use(rejectRepeatedHeaders());
  app.use(helmet());
  // No allow-list, no CORS headers: browsers then refuse cross-origin calls.
  if (security.corsOrigins.length > 0) app.use(cors(corsOptions(security.corsOrigins)));
  app.use(identify(verify));
  app.use(limiters.requests);
  app.use(requireAuthentication(publicRequests(rooms.documented, [ASSETS_PREFIX])));
  app.use(...jsonBody(deps.config.maxBodyBytes));
  app.use(requireWellFormedText());

  const { store } = deps;
  const sets: RouteSet[] = [
    {
      routes: bindRoutes(ORDER_ROUTES, {
        runtime: deps.runtime,
        store,
        orders: deps.orders,
        inventory,
        soldOut: deps.soldOut,
        waitingRoom: deps.waitingRoom,
        keptOrders: new KeptOrderItems(),
      }),
    },
    ...(deps.waitingRoom
      ? [{ routes: bindRoutes(WAITING_ROOM_ROUTES, { room: deps.waitingRoom, store, events: inventory }) }]
      : []),
    { routes: bindRoutes(SAGA_ROUTES, { store, orders: deps.orders }) },
    { routes: bindRoutes(DOCS_ROUTES, { documented: rooms.documented }), mount: mountSwaggerUi },
    { routes: bindRoutes(MACHINE_ROUTES, machinesDeps(deps.machineDefinition, deps.config.sagaStartVersion)) },
    { routes: bindRoutes(INVENTORY_ROUTES, inventory) },
    { routes: bindRoutes(HEALTH_ROUTES, deps.health) },
    ...(deps.ops ? [{ routes: bindRoutes(OPS_ROUTES, { ...deps.ops, runtime: deps.runtime, store }) }] : []),
    ...(rooms.rooms ?? []),
  ];
  app.use(mountRoutes(sets, { orders: limiters.orders }));
  // 405 with Allow for a path a served route declares, 404 for any other (and other spellings).
  // Derived from the routes served: without a waiting room (tests of the API alone), its paths are 404s.
  const routes = allowedMethods(sets.flatMap((set) => set.routes));

  app.use((req: Request, _res: Response, next: NextFunction) => {
    const route = routes.find((r) => r.pattern.test(req.path));
    if (route) {
      next(
        new ProblemError('method-not-allowed', `${req.method} is not allowed on ${req.path}`, undefined, {
          allow: route.allow,
        }),
      );
      return;
    }
    next(new ProblemError('not-found', `no route for ${req.method} ${req.path}`));
  });

  // Express recognises an error handler by its four parameters.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const ctx = ctxOf(res);
    const problem = toProblem(error);
    const headers: Record<string, string> = {};
    if (problem) {
      if (problem.kind === 'method-not-allowed' && typeof problem.extensions.allow === 'string')
        headers.Allow = problem.extensions.allow;
      if (typeof problem.extensions.wwwAuthenticate === 'string')
        headers['WWW-Authenticate'] = problem.extensions.wwwAuthenticate;
      if (typeof problem.extensions.retryAfter === 'number')
        headers['Retry-After'] = String(problem.extensions.retryAfter);
      const { allow: _allow, wwwAuthenticate: _challenge, status: _status, ...extensions } = problem.extensions;
      const body = problemBody(problem.kind, problem.detail, {
        errors: problem.errors,
        instance: pathOf(req),
        correlationId: ctx?.correlationId,
        extensions,
        status: problem.status,
      });
      ctx?.log.info('request refused', { status: body.status, type: body.type, detail: body.detail });
      if (res.headersSent) return;
      sendProblem(res, body, headers);
      return;
    }
    (ctx?.log ?? deps.logger).error('request failed', { error });
    if (res.headersSent) return;
    sendProblem(
      res,
      problemBody('internal', 'the request could not be completed; retry later', {
        instance: pathOf(req),
        correlationId: ctx?.correlationId,
      }),
    );
  });

  return app;
}

/** The path for `instance`, without the query (which may hold anything). */
function pathOf(req: Request): string {
  return req.originalUrl.split('?')[0];
}

function corsOptions(origins: string[]): cors.CorsOptions {
  return {
    origin: origins,
    methods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Correlation-Id'],
    exposedHeaders: [
      'Location',
      'X-Correlation-Id',
      'Idempotent-Replayed',
      'X-Cache',
      'Retry-After',
      'RateLimit',
      'RateLimit-Policy',
    ],
    maxAge: 600,
  };
}

/** Our errors, body-parser's, and any other error carrying a 4xx status (Express's own: a bad path encoding). */
function toProblem(error: unknown): ProblemError | undefined {
  if (error instanceof ProblemError) return error;
  if (error instanceof MachineVersionUnavailableError) {
    // Operational, not a bug: the saga runs on a machine version this build lacks (a rollout).
    return new ProblemError('service-unavailable', `${error.message}; retry later`, undefined, {
      reason: 'unknown machine version',
      machineVersion: error.machineVersion,
    });
  }
  if (error instanceof InvalidCursorError) {
    return new ProblemError('invalid-cursor', error.message, [{ field: 'cursor', message: error.message }]);
  }
  return bodyProblem(error) ?? clientErrorProblem(error);
}
