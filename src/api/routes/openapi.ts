/** GET /openapi.json (src/api/openapi.ts) and Swagger UI at /docs, from swagger-ui-dist, served locally. */
import express, { type Request, type Response, type Router } from 'express';
import { dirname } from 'node:path';
import { ASSETS_PREFIX } from '../../http/assets';
import { routeOf, type Route, type RouteDoc } from '../../http/route';
import { openApiDocument } from '../openapi';
import { emptyQuerySchema } from '../schemas';

/** Swagger UI's files, under the console's asset prefix (one prefix for all static assets). */
export const SWAGGER_PREFIX = `${ASSETS_PREFIX}/swagger-ui`;

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>EventTicket API</title>
<link rel="icon" href="${ASSETS_PREFIX}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${SWAGGER_PREFIX}/swagger-ui.css">
<script src="${SWAGGER_PREFIX}/swagger-ui-bundle.js" defer></script>
<script src="${ASSETS_PREFIX}/swagger-init.js" defer></script>
</head><body><div id="swagger-ui"></div></body></html>`;

export interface DocsRouteDeps {
  /** Every route the service declares (src/routes.ts ROUTE_TABLE): what /openapi.json describes. */
  documented: readonly RouteDoc[];
  /** The document's JSON, computed once. */
  cached?: string;
}

/** Swagger UI's static files (not operations: mounted beside the routes). */
export function mountSwaggerUi(router: Router): void {
  router.use(
    SWAGGER_PREFIX,
    express.static(dirname(require.resolve('swagger-ui-dist/package.json')), { index: false }),
  );
}

const route = routeOf<DocsRouteDeps>();

// Public: they describe the API, which is no secret (every client is given it); they hold no data.
export const DOCS_ROUTES: ReadonlyArray<Route<DocsRouteDeps>> = [
  route({
    method: 'get',
    path: '/openapi.json',
    roles: [],
    summary: 'This document',
    tag: 'meta',
    query: emptyQuerySchema,
    ok: { 200: 'json' },
    problems: [400],
    handle: (deps, _input, _req: Request, res: Response) => {
      deps.cached ??= JSON.stringify(openApiDocument(deps.documented));
      res.type('application/json').send(deps.cached);
    },
  }),
  route({
    method: 'get',
    path: '/docs',
    roles: [],
    summary: 'Swagger UI (served locally)',
    tag: 'meta',
    query: emptyQuerySchema,
    ok: { 200: 'html' },
    problems: [400],
    handle: (_deps, _input, _req: Request, res: Response) => {
      res.type('text/html; charset=utf-8').send(DOCS_PAGE);
    },
  }),
];
