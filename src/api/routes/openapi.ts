/** GET /openapi.json (src/api/openapi.ts) and Swagger UI at /docs, from swagger-ui-dist, served locally. */
import express, { Router, type Request, type Response } from 'express';
import { apiRouter } from '../router';
import { dirname } from 'node:path';
import { ASSETS_PREFIX } from '../../console/html';
import { openApiDocument } from '../openapi';
import { emptyQuerySchema } from '../schemas';
import { queryValidator } from '../validation';
import { queryOf } from './orders';

const validateNoQuery = queryValidator<Record<string, never>>(emptyQuerySchema);

/** Swagger UI's files, under the console's asset prefix (one prefix for all static assets). */
export const SWAGGER_PREFIX = `${ASSETS_PREFIX}/swagger-ui`;

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>EventTicket API</title>
<link rel="icon" href="${ASSETS_PREFIX}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${SWAGGER_PREFIX}/swagger-ui.css">
<script src="${SWAGGER_PREFIX}/swagger-ui-bundle.js" defer></script>
<script src="${ASSETS_PREFIX}/swagger-init.js" defer></script>
</head><body><div id="swagger-ui"></div></body></html>`;

export function openApiRouter(): Router {
  const router = apiRouter();
  let cached: string | undefined;
  router.use(
    SWAGGER_PREFIX,
    express.static(dirname(require.resolve('swagger-ui-dist/package.json')), { index: false }),
  );
  router.get('/openapi.json', (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    cached ??= JSON.stringify(openApiDocument());
    res.type('application/json').send(cached);
  });
  router.get('/docs', (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    res.type('text/html; charset=utf-8').send(DOCS_PAGE);
  });
  return router;
}
