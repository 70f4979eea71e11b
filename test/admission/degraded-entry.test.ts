/**
 * An ENTER that times out at the client but still runs in Redis (src/orders/place-order.ts): POST
 * takes the "Redis trouble: admit" path and starts the saga, and must take back the queue entry
 * the late ENTER made, or the admitter pops it later and, after sell-out, tells the buyer SOLD_OUT
 * while its saga runs (told twice; seen in the flash-sale bench under load, docs/flash-sale-bench.md).
 *
 * On the real engines (DynamoDB, SQS through test/api/harness.ts) and a Redis of its own (started
 * here on a free port, stopped at the end): `CLIENT PAUSE … WRITE` holds every script (ENTER, the
 * take-back) for 400 ms while reads go on, so the room's limit is read, ENTER times out at the
 * room's 100-ms command timeout, the saga is placed, and both scripts run in order once the pause
 * ends. Pausing the shared Redis would stall every other test using it.
 */
import { spawnSync } from 'node:child_process';
import { WaitingRoom } from '../../src/admission/waiting-room';
import { closeRedis, createRedis, type RedisClient } from '../../src/cache/redis';
import { createLogger } from '../../src/observability/logger';
import { placeOrder } from '../../src/orders/place-order';
import type { PlaceOrder } from '../../src/runtime/saga-runtime';
import { ensureLocalRedis, freePort, type LocalRedis } from '../../scripts/local-aws';
import { createApiHarness, uniqueId, type ApiHarness } from '../api/harness';

jest.setTimeout(120_000);

const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
// Skipped only where redis-server is not installed: this file needs a Redis of its own to pause.
const describeIfRedisServer = hasRedisServer ? describe : describe.skip;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ready(redis: RedisClient): Promise<void> {
  for (let i = 0; i < 100 && redis.status !== 'ready'; i++) await sleep(50);
  expect(redis.status).toBe('ready');
}

describeIfRedisServer('a degraded entry whose ENTER still ran', () => {
  let own: LocalRedis;
  let h: ApiHarness;
  let slow: RedisClient;

  beforeAll(async () => {
    own = await ensureLocalRedis(`redis://127.0.0.1:${await freePort()}`);
    h = await createApiHarness({ label: 'degraded', redisUrl: own.url });
    slow = createRedis(own.url, createLogger('error'), { commandTimeoutMs: 100 });
    await Promise.all([ready(h.redis), ready(slow)]);
  });
  afterAll(async () => {
    if (slow) await closeRedis(slow);
    await h?.close();
    await own?.stop();
  });

  it('is taken back once the saga is placed: the buyer is not left in the queue', async () => {
    const prefix = `${h.aws.prefix}deg:`;
    const room = new WaitingRoom(slow, createLogger('error'), { keyPrefix: prefix, defaultLimit: 0 });
    // The same room seen through a client without the short timeout, for the checks.
    const view = new WaitingRoom(h.redis, createLogger('error'), { keyPrefix: prefix, defaultLimit: 0 });
    const eventId = uniqueId('ev');
    const order = (i: number): PlaceOrder => ({
      orderId: uniqueId(`o${i}`),
      customerId: `buyer-${i}`,
      eventId,
      items: [{ ticketType: 'GA', quantity: 1 }],
      paymentToken: 'tok_success',
      correlationId: uniqueId('corr'),
      requestHash: `fp-${i}`,
    });
    await view.setLimit(eventId, 1);
    const holder = order(0);
    expect(await view.enter(holder)).toEqual({ admitted: true }); // the one place is taken

    const buyer = order(1);
    await h.redis.call('CLIENT', 'PAUSE', '400', 'WRITE');
    const outcome = await placeOrder(
      { runtime: h.runtime, store: h.store, waitingRoom: room },
      { order: buyer, keyed: false, fitsEvent: true },
    );
    // The room timed out (degraded: admitted), so the saga started.
    expect(outcome).toMatchObject({ kind: 'placed', saga: { orderId: buyer.orderId } });
    await sleep(600); // the pause is over: the late ENTER ran, then the take-back

    // The late ENTER did queue the buyer (its arrival number was drawn) ...
    expect(await h.redis.get(`${prefix}wr:{${eventId}}:seq`)).toBe('1');
    // ... and the take-back removed it: not waiting, nothing for the admitter to pop or tell.
    expect(await view.standing(buyer.orderId)).toEqual({ state: 'unknown' });
    expect(await view.endedWithoutSaga([buyer.orderId])).toEqual([undefined]);
    expect(await view.ended(eventId, holder.orderId)).toBe(true);
    expect(await view.admitNext(eventId)).toEqual([]);
  });
});
