/**
 * The live-connection registry alone (pure logic, src/console/live/live-connections.ts): the per-caller
 * cap and its release, the expiry deadline (exp + clock skew, re-armed past Node's 24.8-day timer
 * limit instead of firing at once), and shutdown. The service-level behaviour is in
 * test/console/live-connections.test.ts.
 */
import { LiveConnections, type LiveEndReason } from '../../src/console/live/live-connections';
import { ProblemError } from '../../src/http/problem';
import { createLogger } from '../../src/observability/logger';

const logger = createLogger('error');
const principal = (sub: string, expiresAt?: number) => ({ sub, roles: new Set<'operator'>(['operator']), expiresAt });
const nowSeconds = () => Math.floor(Date.now() / 1000);

it('caps open connections per caller (429 with Retry-After) and frees a place on release, once', () => {
  const live = new LiveConnections({ maxPerCaller: 2, clockSkewSeconds: 0, logger });
  const a = live.open(principal('ann'), () => undefined);
  live.open(principal('ann'), () => undefined);
  let refused: unknown;
  try {
    live.open(principal('ann'), () => undefined);
  } catch (error) {
    refused = error;
  }
  expect(refused).toBeInstanceOf(ProblemError);
  expect((refused as ProblemError).status).toBe(429);
  expect((refused as ProblemError).extensions.retryAfter).toBeGreaterThan(0);
  // Another caller is not affected.
  live.open(principal('bob'), () => undefined);
  a.release();
  a.release(); // twice frees one place only
  live.open(principal('ann'), () => undefined);
  expect(() => live.open(principal('ann'), () => undefined)).toThrow(ProblemError);
  live.shutdown();
});

it('ends a connection at exp + clock skew with token-expired, and refuses an already expired token', async () => {
  const live = new LiveConnections({ maxPerCaller: 5, clockSkewSeconds: 1, logger });
  const ended: LiveEndReason[] = [];
  const openedAt = Date.now();
  live.open(principal('ann', nowSeconds() + 1), (reason) => ended.push(reason));
  await new Promise((r) => setTimeout(r, 500));
  expect(ended).toEqual([]);
  while (ended.length === 0 && Date.now() - openedAt < 10000) await new Promise((r) => setTimeout(r, 50));
  expect(ended).toEqual(['token-expired']);
  expect(Date.now() - openedAt).toBeGreaterThanOrEqual(1000);
  expect(live.size).toBe(0);
  expect(() => live.open(principal('ann', nowSeconds() - 5), () => undefined)).toThrow(/expired/);
});

it('a token valid for 60 days (past the 24.8 days a Node timer can wait) does not end before its exp', async () => {
  const live = new LiveConnections({ maxPerCaller: 5, clockSkewSeconds: 0, logger });
  const ended: LiveEndReason[] = [];
  live.open(principal('ann', nowSeconds() + 60 * 24 * 3600), (reason) => ended.push(reason));
  await new Promise((r) => setTimeout(r, 200));
  expect(ended).toEqual([]);
  expect(live.shutdown()).toBe(1);
  expect(ended).toEqual(['shutdown']);
});

it('shutdown tells every connection once and refuses new ones with 503', () => {
  const live = new LiveConnections({ maxPerCaller: 5, clockSkewSeconds: 0, logger });
  const ended: string[] = [];
  const a = live.open(principal('ann'), (reason) => ended.push(`a:${reason}`));
  live.open(principal('bob'), (reason) => ended.push(`b:${reason}`));
  expect(live.shutdown()).toBe(2);
  a.release();
  expect(ended.sort()).toEqual(['a:shutdown', 'b:shutdown']);
  let refused: unknown;
  try {
    live.open(principal('cat'), () => undefined);
  } catch (error) {
    refused = error;
  }
  expect((refused as ProblemError).status).toBe(503);
});
