/**
 * Where static files are served: the console's CSS and script (src/console/assets) and Swagger UI
 * (src/api/routes/openapi.ts), under one prefix. Files hold no data: GET/HEAD of them needs no
 * token (src/http/route.ts publicRequests).
 */
export const ASSETS_PREFIX = '/console/assets';
