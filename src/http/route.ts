/**
 * One declaration per route (issue 24): method, path, roles, the route's own limiter, query, body
 * and path-parameter schemas, the headers it reads, the statuses it answers, its summary, and its
 * handler. Everything else is derived from the declarations, so that a route cannot be served
 * without its guard or documented differently from how it is served:
 * - Express registration on the strict, case-sensitive router (./router.ts), in the order of
 *   docs/security.md's route step: role check → route limiter → validation (query, path
 *   parameters, body) → handler (mountRoutes);
 * - the 405 answers and their Allow header (allowedMethods);
 * - the requests served without a token (publicRequests);
 * - the OpenAPI document (src/api/openapi.ts openApiDocument).
 *
 * The API's declarations live beside their handlers in src/api/routes/, the console's in
 * src/console/; the one list of all of them is assembled by the composition root (src/routes.ts).
 */
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Role } from './auth/principal';
import { requireRole } from './auth/require-role';
import { apiRouter } from './router';
import { bodyValidator, pathParam, queryValidator } from './validation';

export type Schema = Record<string, unknown>;
export type Method = 'get' | 'post' | 'put' | 'delete';
/** What a 2xx carries: JSON (a named component schema, or any object), HTML, an event stream, anything. */
export type Media = 'json' | 'html' | 'sse' | 'any' | { json: string };
export type RouteTag = 'orders' | 'sagas' | 'inventory' | 'ops' | 'console' | 'meta';
/** The request headers a route may declare and read (RouteInput.headers). */
export type RequestHeader = 'Idempotency-Key' | 'If-Match' | 'Last-Event-ID';
/** A limiter a route names (src/api/guards/rate-limits.ts); the app attaches the handler. */
export type LimiterName = 'orders';

/** A path parameter: its pattern (OpenAPI), and how it is checked before the handler runs. */
export interface ParamSpec {
  pattern: string;
  /** The 400's wording ("a UUID"); absent: the handler looks the value up itself (a 404 when unknown). */
  expected?: string;
  /** Lower-cased once checked (order ids are stored lower-case). */
  lowercase?: boolean;
}

/** A route's declaration without its handler: what OpenAPI, the 405s and the public list read. */
export interface RouteDoc {
  method: Method;
  /** Express path (`:param`). */
  path: string;
  /**
   * Who may call it: a bearer token with any one of these roles (operator-repair implies operator,
   * src/http/auth/principal.ts); empty: public, served without a token (publicRequests).
   */
  roles: readonly Role[];
  /** The route's own rate limit, after the role check (POST /orders: orders per customer per minute). */
  limiter?: LimiterName;
  summary: string;
  tag: RouteTag;
  /** The query schema (closed); emptyQuerySchema when the route reads none. */
  query: Schema;
  body?: Schema;
  /** The body may be absent (it is then `{}`). */
  bodyOptional?: boolean;
  /** Path parameters: each `:name` of the path. */
  params?: Record<string, ParamSpec>;
  /**
   * Request headers the route reads (X-Operator-Id is not one: the operator is the token's `sub`).
   * The handler gets these, and only these, in `input.headers`: a header it reads is a header the
   * document lists.
   */
  headers?: RequestHeader[];
  /** Statuses answered with a body of the route's own (all 2xx, but health's 503 DOWN report) and what they carry. */
  ok: Record<number, Media>;
  /** Problem statuses it may answer (the guards' 401, 403, 429, and 405, 500 are added by OpenAPI). */
  problems: number[];
}

/** What the route's handler is given, already checked against its declaration. */
export interface RouteInput<Q = Record<string, never>, B = undefined> {
  query: Q;
  /** The validated body; `{}` for an absent optional body; undefined for a route without a body schema. */
  body: B;
  /** The checked path parameters (lower-cased where declared). */
  params: Record<string, string>;
  /** The declared request headers that were sent (RouteDoc.headers), as sent; the handler checks their form. */
  headers: Partial<Record<RequestHeader, string>>;
}

/** A declared route whose handler needs `D` (the room's dependencies), given when the app is built. */
export interface Route<D> extends RouteDoc {
  handle(
    this: void,
    deps: D,
    input: RouteInput<unknown, unknown>,
    req: Request,
    res: Response,
    next: NextFunction,
  ): unknown;
}

/** A route with its dependencies bound: ready to mount. */
export interface BoundRoute extends RouteDoc {
  serve(this: void, input: RouteInput<unknown, unknown>, req: Request, res: Response, next: NextFunction): unknown;
}

/** A room's routes bound to its deps, plus what it mounts that is no operation (static assets, a WebSocket). */
export interface RouteSet {
  routes: BoundRoute[];
  /** Middleware mounted before the routes (static files, the inspector feed's upgrade). */
  mount?: (router: Router) => void;
}

/**
 * The typed way to declare a route of a room whose handlers need `D`: `Q` and `B` are the shapes
 * the query and body schemas admit (ajv checks them before the handler runs).
 */
export function routeOf<D>() {
  return <Q = Record<string, never>, B = undefined>(
    declaration: RouteDoc & {
      handle(this: void, deps: D, input: RouteInput<Q, B>, req: Request, res: Response, next: NextFunction): unknown;
    },
  ): Route<D> => declaration;
}

/** `routes` bound to `deps`. */
export function bindRoutes<D>(routes: readonly Route<D>[], deps: D): BoundRoute[] {
  return routes.map(({ handle, ...doc }) => ({
    ...doc,
    serve: (input, req, res, next) => handle(deps, input, req, res, next),
  }));
}

/** The regular expression of an Express path: one spelling, `:param` = one segment. */
export function pathPattern(path: string): RegExp {
  const escaped = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}$`);
}

/**
 * One router serving every set: first what the sets mount beside their routes (static files, the
 * inspector feed), then each route: role check → route limiter → query, path parameters, body →
 * handler. Literal paths are registered before `:param` ones, and a `:param` route does not serve
 * a path another route declares literally: GET /sagas/stream is never the saga "stream", and
 * DELETE /ops/dlq/redrive is not a dead letter named "redrive" (it falls through to 405).
 */
export function mountRoutes(
  sets: readonly RouteSet[],
  limiters: Partial<Record<LimiterName, RequestHandler>> = {},
): Router {
  const router = apiRouter();
  for (const set of sets) set.mount?.(router);
  const routes = sets.flatMap((set) => set.routes);
  const literals = routes.filter((r) => !r.path.includes(':')).map((r) => r.path);
  const ordered = [...routes.filter((r) => !r.path.includes(':')), ...routes.filter((r) => r.path.includes(':'))];
  for (const route of ordered) {
    const validateQuery = queryValidator<unknown>(route.query);
    const validateBody = route.body ? bodyValidator<unknown>(route.body) : undefined;
    const params = Object.entries(route.params ?? {}).map(([name, spec]) => ({
      name,
      spec,
      pattern: new RegExp(spec.pattern),
    }));
    const pattern = pathPattern(route.path);
    const shadowed = new Set(literals.filter((p) => p !== route.path && pattern.test(p)));
    const chain: RequestHandler[] = [];
    if (route.roles.length > 0) chain.push(requireRole(route.roles[0], ...route.roles.slice(1)));
    if (route.limiter) {
      const limiter = limiters[route.limiter];
      if (!limiter) throw new Error(`${route.method} ${route.path}: no ${route.limiter} limiter given`);
      chain.push(limiter);
    }
    chain.push((req: Request, res: Response, next: NextFunction) => {
      if (shadowed.has(req.path)) {
        next();
        return undefined;
      }
      const query = validateQuery({ ...(req.query as Record<string, unknown>) }, 'query');
      const checked: Record<string, string> = {};
      for (const { name, spec, pattern: p } of params) {
        const raw = req.params[name];
        const value = spec.expected === undefined ? String(raw) : pathParam(raw, name, p, spec.expected);
        checked[name] = spec.lowercase ? value.toLowerCase() : value;
      }
      const body =
        validateBody === undefined
          ? undefined
          : route.bodyOptional && req.body === undefined
            ? {}
            : validateBody(req.body, 'body');
      const headers: Partial<Record<RequestHeader, string>> = {};
      for (const name of route.headers ?? []) {
        const value = req.get(name);
        if (value !== undefined) headers[name] = value;
      }
      return route.serve({ query, body, params: checked, headers }, req, res, next);
    });
    router[route.method](route.path, ...chain);
  }
  return router;
}

const METHOD_ORDER: readonly Method[] = ['get', 'post', 'put', 'delete'];

/**
 * For the 405 answers: each declared path's pattern and the methods it answers (Allow). Literal
 * paths come first, so /sagas/stream or /ops/dlq/redrive is answered with its own methods.
 */
export function allowedMethods(routes: readonly RouteDoc[]): Array<{ pattern: RegExp; allow: string }> {
  const byPath = new Map<string, Set<Method>>();
  for (const r of routes) {
    const methods = byPath.get(r.path) ?? new Set<Method>();
    methods.add(r.method);
    byPath.set(r.path, methods);
  }
  const paths = [...byPath.keys()];
  const ordered = [...paths.filter((p) => !p.includes(':')), ...paths.filter((p) => p.includes(':'))];
  return ordered.map((path) => ({
    pattern: pathPattern(path),
    allow: METHOD_ORDER.filter((m) => byPath.get(path)?.has(m))
      .map((m) => m.toUpperCase())
      .join(', '),
  }));
}

/**
 * The requests served without a bearer token: GET/HEAD of a route declared with no roles, and of a
 * file under one of `assetPrefixes`. Everything else needs one (401). Each public route says why
 * in its declaration; today they are:
 * - /actuator/health: load balancers and orchestrators probe it without credentials; it says
 *   UP/DEGRADED/DOWN and names no customer data.
 * - /console/login and the assets (JS, CSS, Swagger UI): the console's sign-in page and its files
 *   hold no data. Every other console page is rendered with data on the server, so it needs a
 *   token: a page load cannot carry a bearer header, so the sign-in page also puts the token in a
 *   cookie that identify() reads for console pages only (src/http/auth/console-cookie.ts).
 * - /docs and /openapi.json: Swagger UI's page and the API description it loads. They describe
 *   the API, which is no secret (every client is given it); they hold no data.
 * Anonymous requests are rate-limited per IP (src/api/guards/rate-limits.ts). A path holding `..`
 * is never public.
 */
export function publicRequests(
  routes: readonly RouteDoc[],
  assetPrefixes: readonly string[],
): (method: string, path: string) => boolean {
  const patterns = [
    ...routes.filter((r) => r.roles.length === 0 && r.method === 'get').map((r) => pathPattern(r.path)),
    ...assetPrefixes.map((prefix) => new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[A-Za-z0-9._/-]+$`)),
  ];
  return (method, path) =>
    (method === 'GET' || method === 'HEAD') && !path.includes('..') && patterns.some((p) => p.test(path));
}
