/** The console's and streams' paths and the methods they answer, for 405s (see app.ts ROUTES). */
export const CONSOLE_ROUTES: ReadonlyArray<{ pattern: RegExp; allow: string }> = [
  { pattern: /^\/console$/, allow: 'GET' },
  { pattern: /^\/console\/(sagas|machine|dlq|login)$/, allow: 'GET' },
  { pattern: /^\/console\/(sagas|inspect)\/[^/]+$/, allow: 'GET' },
  { pattern: /^\/sagas\/stream$/, allow: 'GET' },
  { pattern: /^\/sagas\/[^/]+\/stream$/, allow: 'GET' },
  { pattern: /^\/sagas\/[^/]+\/inspect$/, allow: 'GET' },
];
