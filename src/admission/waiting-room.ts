/**
 * The waiting room: at most `limit` orders of one event in their saga at once; buyers past that
 * wait in a queue, first come first served, and are admitted as earlier sagas end.
 *
 * Shared by every API and worker process through Redis, because the queue must be one total
 * order across processes and each admission must happen once: each operation below is one Lua
 * script, atomic in Redis, and an INCR gives every arrival its place. (DynamoDB could hold it too,
 * but a FIFO pop there is a query plus a conditional write per buyer on one hot item: the very
 * contention the waiting room exists to take off the store.)
 *
 * Keys (under the resource prefix): `wr:{eventId}:active` (ZSET orderId → admitted at, ms),
 * `wr:{eventId}:queue` (ZSET orderId → arrival number), `wr:{eventId}:seq`, `wr:{eventId}:limit`,
 * `wr:{eventId}:avg` (EWMA of saga duration, ms), `wr:req:{orderId}` (the waiting order request,
 * JSON), `wr:told:{orderId}` (what a buyer who never got a saga was told), `wr:fp:{orderId}` (the fingerprint
 * of the Idempotency-Key's first request, while the order holds a place or waits), `wr:events` (events with
 * a queue, or open orders the admitter admitted).
 *
 * Redis down: every call degrades to "admit" (never an error, never a 500); the limit is then not
 * enforced, which is what the system did before the waiting room existed.
 */
import type { RedisClient } from '../cache/redis';
import type { Logger } from '../observability/logger';
import type { PlaceOrder } from '../runtime/saga-runtime';
import { assertSameRequest } from '../runtime/request-fingerprint';
import { EndedWithoutSagaError, type Entry, type OrderWaitingRoom, type Standing } from '../orders/waiting-room-port';

// The port's types live with the use cases that name them (src/orders/); re-exported for the room's users.
export { EndedWithoutSagaError, type Entry, type Standing } from '../orders/waiting-room-port';

/** Saga duration assumed before any has ended (ms). */
const DEFAULT_SAGA_MS = 5000;
/**
 * How long a key's fingerprint is kept at most (s): it is deleted when the order's place is given
 * back (its saga ended, it left, it was told sold out); this only bounds a leak. A week: longer
 * than any wait in the room.
 */
const FINGERPRINT_TTL_SECONDS = 7 * 24 * 3600;
/**
 * How long the end of an order that never got a saga (sold out when admitted, cancelled while
 * queued) is remembered with its key's fingerprint (s): as long as a fingerprint, so the key
 * cannot start another order meanwhile.
 */
const TOLD_TTL_SECONDS = FINGERPRINT_TTL_SECONDS;

// KEYS: active, queue, seq, req, events, avg, fp, told
// ARGV: orderId, nowMs, limit, request, eventId, fingerprint, fpTtl
// → {admitted, position, avg, the fingerprint stored by the key's first request ('' if none), 1 if the order was there,
//    how it ended without a saga ('' if it did not)}
// A fingerprint kept while the order is neither active nor queued: it ended without a saga (told
// sold out, or left the queue); the key stays used (position -2).
// The first request of a key stores its fingerprint in the same step that gives it its place, so a
// second request with the key always finds it (the comparison itself: assertSameRequest, in enter()).
const ENTER = `
local fp = redis.call('GET', KEYS[7]) or ''
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {1, -1, 0, fp, 1} end
local rank = redis.call('ZRANK', KEYS[2], ARGV[1])
local avg = tonumber(redis.call('GET', KEYS[6]) or '0')
if rank then return {0, rank + 1, avg, fp, 1} end
if fp ~= '' then return {0, -2, avg, fp, 1, redis.call('GET', KEYS[8]) or ''} end
local limit = tonumber(ARGV[3])
redis.call('SET', KEYS[7], ARGV[6], 'EX', ARGV[7])
if redis.call('ZCARD', KEYS[1]) < limit and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  return {1, 0, 0, '', 0}
end
redis.call('SET', KEYS[4], ARGV[4])
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
redis.call('SADD', KEYS[5], ARGV[5])
return {0, redis.call('ZRANK', KEYS[2], ARGV[1]) + 1, avg, '', 0}
`;

// KEYS: active, queue, events   ARGV: nowMs, limit, eventId, reqPrefix  → flat list of orderId, request
const ADMIT_NEXT = `
local out = {}
local limit = tonumber(ARGV[2])
while redis.call('ZCARD', KEYS[1]) < limit do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #head == 0 then break end
  redis.call('ZREM', KEYS[2], head[1])
  redis.call('ZADD', KEYS[1], ARGV[1], head[1])
  table.insert(out, head[1])
  table.insert(out, redis.call('GET', ARGV[4] .. head[1]) or '')
end
-- The admitter keeps watching the event while orders it admitted are open (to re-place a lost one).
if redis.call('ZCARD', KEYS[2]) == 0 and redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[3], ARGV[3]) end
return out
`;

// KEYS: active, avg, fp   ARGV: orderId, nowMs, keepFpTtl ('' = delete the fingerprint) → 1 when a place was freed
const END = `
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not at then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[3] == '' then redis.call('DEL', KEYS[3]) else redis.call('EXPIRE', KEYS[3], ARGV[3]) end
local took = tonumber(ARGV[2]) - tonumber(at)
local avg = tonumber(redis.call('GET', KEYS[2]) or '0')
if avg == 0 then avg = took else avg = math.floor(avg * 0.8 + took * 0.2) end
redis.call('SET', KEYS[2], avg)
return 1
`;

// KEYS: active, avg, fp, told, req   ARGV: orderId, nowMs, ttl → 1 when a place was freed
// A queued buyer admitted after sell-out, told so in one step: the answer kept (told), the waiting
// request forgotten (req), then END with the fingerprint kept (the key stays used).
const TOLD_SOLD_OUT = `
redis.call('SET', KEYS[4], 'sold-out', 'EX', ARGV[3])
redis.call('DEL', KEYS[5])
${END}`;

// KEYS: queue, req, fp, told   ARGV: orderId, ttl ('' = withdraw: forget the entry and its fingerprint)
// → 1 when it was waiting. A buyer leaving: the fingerprint stays (with 'cancelled' in told), the
// key's order ended and the key is not free again.
const LEAVE = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('DEL', KEYS[2])
  if ARGV[2] == '' then
    redis.call('DEL', KEYS[3])
  else
    redis.call('EXPIRE', KEYS[3], ARGV[2])
    redis.call('SET', KEYS[4], 'cancelled', 'EX', ARGV[2])
  end
  return 1
end
return 0
`;

export interface WaitingRoomOptions {
  /** Prepended to every key (the resource prefix). */
  keyPrefix?: string;
  /** The limit of an event without its own (0 = no waiting room). */
  defaultLimit: number;
  now?: () => number;
}

interface QueuedRequest {
  eventId: string;
  order: PlaceOrder;
}

export class WaitingRoom implements OrderWaitingRoom {
  private readonly p: string;
  private readonly now: () => number;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
    private readonly options: WaitingRoomOptions,
  ) {
    this.p = `${options.keyPrefix ?? ''}wr:`;
    this.now = options.now ?? Date.now;
  }

  private keys(eventId: string) {
    const e = `${this.p}{${eventId}}:`;
    return { active: `${e}active`, queue: `${e}queue`, seq: `${e}seq`, limit: `${e}limit`, avg: `${e}avg` };
  }

  private get up(): boolean {
    return this.redis.status === 'ready';
  }

  /** The event's limit of orders in their saga at once (0 = none). Redis down: 0. */
  async limitOf(eventId: string): Promise<number> {
    if (!this.up) return 0;
    try {
      return await this.readLimit(eventId);
    } catch (error) {
      this.degraded('limit', error);
      return 0;
    }
  }

  /** The event's limit as stored; throws on a Redis error (the admitter then admits nobody this pass). */
  private async readLimit(eventId: string): Promise<number> {
    const own = await this.redis.get(this.keys(eventId).limit);
    return own === null ? this.options.defaultLimit : Number(own);
  }

  /** Sets (or with null, removes) an event's own limit. Throws when Redis is down: an operator should know. */
  async setLimit(eventId: string, limit: number | null): Promise<void> {
    if (limit === null) await this.redis.del(this.keys(eventId).limit);
    else await this.redis.set(this.keys(eventId).limit, String(limit));
  }

  /**
   * A new order asks in: admitted (start its saga now) or queued with its position (1 = next) and
   * an estimate (position × mean saga time ÷ limit, s). A key met again (the order is queued, or
   * admitted and maybe not placed yet) is a replay (`already`) when its request is the same.
   * Redis trouble admits (the saga store then applies the key's rule).
   * @throws IdempotencyKeyReusedError when the key's first request was a different one (nothing changes).
   * @throws EndedWithoutSagaError when the key's order already ended here without a saga (nothing changes).
   */
  async enter(order: PlaceOrder): Promise<Entry> {
    const limit = await this.limitOf(order.eventId);
    if (limit <= 0) {
      if (this.up) await this.checkEndedWithoutSaga(order);
      return { admitted: true, degraded: !this.up || undefined };
    }
    const k = this.keys(order.eventId);
    let answer: [number, number, number, string, number, string?];
    try {
      const request: QueuedRequest = { eventId: order.eventId, order };
      answer = (await this.redis.eval(
        ENTER,
        8,
        k.active,
        k.queue,
        k.seq,
        this.reqKey(order.orderId),
        `${this.p}events`,
        k.avg,
        this.fpKey(order.orderId),
        this.toldKey(order.orderId),
        order.orderId,
        String(this.now()),
        String(limit),
        JSON.stringify(request),
        order.eventId,
        order.requestHash,
        String(FINGERPRINT_TTL_SECONDS),
      )) as [number, number, number, string, number, string?];
    } catch (error) {
      this.degraded('enter', error);
      return { admitted: true, degraded: true };
    }
    const [admitted, position, avg, stored, existed, told] = answer;
    const already = existed === 1;
    if (already) assertSameRequest(stored === '' ? undefined : stored, order.requestHash);
    if (position === -2)
      throw new EndedWithoutSagaError(order.orderId, told === 'cancelled' ? 'cancelled' : 'sold-out');
    if (admitted === 1) return already ? { admitted: true, already: true } : { admitted: true };
    return {
      admitted: false,
      position,
      estimatedWaitSeconds: estimate(position, avg, limit),
      ...(already ? { already: true } : {}),
    };
  }

  /**
   * Without a room (limit 0, set after the order waited here), the key of an order that ended here
   * without a saga still stays used: one read of its fingerprint and end. Redis trouble: nothing
   * is known, the order goes on (as everywhere here).
   * @throws IdempotencyKeyReusedError, EndedWithoutSagaError
   */
  private async checkEndedWithoutSaga(order: PlaceOrder): Promise<void> {
    let fp: string | null;
    let told: string | null;
    try {
      [fp, told] = await this.redis.mget(this.fpKey(order.orderId), this.toldKey(order.orderId));
    } catch (error) {
      this.degraded('told', error);
      return;
    }
    if (fp === null || told === null) return;
    assertSameRequest(fp, order.requestHash);
    throw new EndedWithoutSagaError(order.orderId, told === 'cancelled' ? 'cancelled' : 'sold-out');
  }

  /** Where a buyer stands. `unknown`: not waiting and never told here (Redis down, or no such order). */
  async standing(orderId: string): Promise<Standing> {
    if (!this.up) return { state: 'unknown' };
    try {
      const [raw, told] = await Promise.all([
        this.redis.get(this.reqKey(orderId)),
        this.redis.get(this.toldKey(orderId)),
      ]);
      if (told === 'sold-out') return { state: 'sold-out' };
      if (raw === null) return { state: 'unknown' };
      const { eventId } = JSON.parse(raw) as QueuedRequest;
      const k = this.keys(eventId);
      const [rank, active, avg, limit] = await Promise.all([
        this.redis.zrank(k.queue, orderId),
        this.redis.zscore(k.active, orderId),
        this.redis.get(k.avg),
        this.limitOf(eventId),
      ]);
      if (rank !== null)
        return {
          state: 'waiting',
          position: rank + 1,
          estimatedWaitSeconds: estimate(rank + 1, Number(avg ?? 0), limit),
        };
      return active !== null ? { state: 'admitted' } : { state: 'unknown' };
    } catch (error) {
      this.degraded('standing', error);
      return { state: 'unknown' };
    }
  }

  /** The customer of a waiting order request (for ownership checks), or undefined. Never throws. */
  async ownerOf(orderId: string): Promise<string | undefined> {
    if (!this.up) return undefined;
    try {
      const raw = await this.redis.get(this.reqKey(orderId));
      return raw === null ? undefined : (JSON.parse(raw) as QueuedRequest).order.customerId;
    } catch (error) {
      this.degraded('ownerOf', error);
      return undefined;
    }
  }

  /**
   * The fingerprint of the Idempotency-Key's first request for this order (src/runtime/request-fingerprint.ts),
   * while it waits or holds a place; undefined otherwise. Never throws: Redis trouble is undefined.
   */
  async fingerprintOf(orderId: string): Promise<string | undefined> {
    if (!this.up) return undefined;
    try {
      return (await this.redis.get(this.fpKey(orderId))) ?? undefined;
    } catch (error) {
      this.degraded('fingerprintOf', error);
      return undefined;
    }
  }

  /**
   * A waiting buyer cancels: true when they were waiting (their place is freed). The key stays used
   * (EndedWithoutSagaError on entering again). `withdraw`: the entry was made in error (its key's
   * order was placed already): forgotten with its fingerprint. `eventId` given: no read of the
   * waiting request first, so the removal is one script, run after any command sent before it on
   * this connection (an ENTER that timed out here may still run in Redis before it).
   */
  async leave(orderId: string, withdraw = false, eventId?: string): Promise<boolean> {
    if (!this.up) return false;
    try {
      if (eventId === undefined) {
        const raw = await this.redis.get(this.reqKey(orderId));
        if (raw === null) return false;
        eventId = (JSON.parse(raw) as QueuedRequest).eventId;
      }
      return (
        (await this.redis.eval(
          LEAVE,
          4,
          this.keys(eventId).queue,
          this.reqKey(orderId),
          this.fpKey(orderId),
          this.toldKey(orderId),
          orderId,
          withdraw ? '' : String(TOLD_TTL_SECONDS),
        )) === 1
      );
    } catch (error) {
      this.degraded('leave', error);
      return false;
    }
  }

  /**
   * An order's saga ended (or it was told sold-out without one): its place goes to the next buyer.
   * `keepFingerprint`: the order ended without a saga, so its key stays used (toldSoldOut).
   */
  async ended(eventId: string, orderId: string, keepFingerprint = false): Promise<boolean> {
    if (!this.up) return false;
    const k = this.keys(eventId);
    const keep = keepFingerprint ? String(TOLD_TTL_SECONDS) : '';
    try {
      return (
        (await this.redis.eval(END, 3, k.active, k.avg, this.fpKey(orderId), orderId, String(this.now()), keep)) === 1
      );
    } catch (error) {
      this.degraded('ended', error);
      return false;
    }
  }

  /** Events with buyers waiting. */
  async waitingEvents(): Promise<string[]> {
    if (!this.up) return [];
    return this.redis.smembers(`${this.p}events`);
  }

  /**
   * Moves waiting buyers into the free places, in arrival order; returns their order requests.
   * @throws the Redis error when the limit or the queue cannot be read (nobody is admitted).
   */
  async admitNext(eventId: string): Promise<PlaceOrder[]> {
    // Not limitOf: a limit that cannot be read is no limit at POST (admit), but here it would move
    // the whole queue into sagas at once. Throwing skips this pass; the next one reads again.
    const limit = await this.readLimit(eventId);
    const k = this.keys(eventId);
    const flat = (await this.redis.eval(
      ADMIT_NEXT,
      3,
      k.active,
      k.queue,
      `${this.p}events`,
      String(this.now()),
      String(limit > 0 ? limit : Number.MAX_SAFE_INTEGER),
      eventId,
      `${this.p}req:`,
    )) as string[];
    const out: PlaceOrder[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i + 1]) out.push((JSON.parse(flat[i + 1]) as QueuedRequest).order);
    }
    return out;
  }

  /** The admitted orders of an event with when they were admitted (ms), for the admitter's check. */
  async active(eventId: string): Promise<Array<{ orderId: string; admittedAt: number }>> {
    const flat = await this.redis.zrange(this.keys(eventId).active, 0, -1, 'WITHSCORES');
    const out: Array<{ orderId: string; admittedAt: number }> = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ orderId: flat[i], admittedAt: Number(flat[i + 1]) });
    return out;
  }

  /** The order request of an admitted buyer not yet placed, if any. */
  async pendingRequest(orderId: string): Promise<PlaceOrder | undefined> {
    const raw = await this.redis.get(this.reqKey(orderId));
    return raw === null ? undefined : (JSON.parse(raw) as QueuedRequest).order;
  }

  /** The waiting request is placed (its saga exists): forget it. */
  async placed(orderId: string): Promise<void> {
    await this.redis.del(this.reqKey(orderId));
  }

  /**
   * A queued buyer admitted after sell-out: told so here (GET /orders/:id/queue), no saga started.
   * One script, one round trip (it was three: the answer, forgetting the request, giving the place
   * back), and atomic: no buyer is ever half told. Its key stays used: the fingerprint is kept with
   * the answer. Throws on a Redis error (nothing changed; the admitter's check tells it again).
   */
  async toldSoldOut(eventId: string, orderId: string): Promise<void> {
    const k = this.keys(eventId);
    await this.redis.eval(
      TOLD_SOLD_OUT,
      5,
      k.active,
      k.avg,
      this.fpKey(orderId),
      this.toldKey(orderId),
      this.reqKey(orderId),
      orderId,
      String(this.now()),
      String(TOLD_TTL_SECONDS),
    );
  }

  /**
   * How each of these orders ended here without a saga ('sold-out' or 'cancelled'), undefined for
   * one that did not (waiting, admitted, placed, unknown): the answers GET /orders/:id/queue gives,
   * read in MGETs of 500. For tools that count every buyer's outcome (scripts/bench-flash-sale.ts).
   * Throws on a Redis error.
   */
  async endedWithoutSaga(orderIds: readonly string[]): Promise<Array<'sold-out' | 'cancelled' | undefined>> {
    const out: Array<'sold-out' | 'cancelled' | undefined> = [];
    for (let start = 0; start < orderIds.length; start += 500) {
      const keys = orderIds.slice(start, start + 500).map((id) => this.toldKey(id));
      for (const value of await this.redis.mget(keys))
        out.push(value === 'sold-out' || value === 'cancelled' ? value : undefined);
    }
    return out;
  }

  private reqKey(orderId: string): string {
    return `${this.p}req:${orderId}`;
  }

  /** The fingerprint of the key's first request (src/runtime/request-fingerprint.ts), while the order holds a place. */
  private fpKey(orderId: string): string {
    return `${this.p}fp:${orderId}`;
  }

  private toldKey(orderId: string): string {
    return `${this.p}told:${orderId}`;
  }

  private degraded(op: string, error: unknown): void {
    this.logger.warn('waiting room unavailable; admitting', {
      op,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** position × mean saga time ÷ places, in whole seconds (at least 1). */
function estimate(position: number, avgSagaMs: number, limit: number): number {
  const avg = avgSagaMs > 0 ? avgSagaMs : DEFAULT_SAGA_MS;
  return Math.max(1, Math.ceil((position * avg) / Math.max(1, limit) / 1000));
}
