/**
 * The admitter: a loop in each API process that moves waiting buyers into free places and starts
 * their sagas. Several processes may run it at once: the waiting room's pop is atomic, so each
 * buyer is admitted once, and placing is idempotent by order id, so a retry after a crash
 * (the check below re-places an admitted order whose saga never appeared) starts nothing twice.
 *
 * Places free up when a saga ends (the runtime's onSagaEnded calls WaitingRoom.ended). The check
 * every `checkEveryMs` is the safety net for an end that was missed (a worker died between its
 * commit and the call): it reads the admitted orders' sagas and frees the places of ended ones.
 */
import type { Logger } from '../observability/logger';
import { isFinalState } from '../../machines/order-saga';
import type { PlaceOrder, SagaRuntime } from '../runtime/saga-runtime';
import { placeAdmittedOrder } from '../orders/place-order';
import type { SagaStore } from '../store/saga-store';
import type { WaitingRoom } from './waiting-room';

/** An admitted order with no saga and no waiting request after this long was never placed (ms). */
const LOST_AFTER_MS = 60_000;

/**
 * At most this many admissions per event in one pass. A buyer told sold out gives its place back
 * at once, so after sell-out the pass admits again at once instead of waiting for the next tick
 * (which let 1 limit's worth of buyers be told per 200 ms: 8,998 buyers over ≥ 9 s at a limit of
 * 200, docs/flash-sale-bench.md); this bound keeps one event's queue from holding the pass (and
 * the other events) for long: 50 rounds of a 200-place room is 10,000 buyers.
 */
const MAX_ROUNDS_PER_PASS = 50;

export interface AdmitterDeps {
  room: WaitingRoom;
  runtime: SagaRuntime;
  store: SagaStore;
  logger: Logger;
  /** Ticket types flagged sold out (src/cache/sold-out.ts): a buyer admitted then is told, no saga. */
  soldOut?: { flagged(eventId: string, ticketTypes: readonly string[]): Promise<string[]> };
  intervalMs?: number;
  checkEveryMs?: number;
}

export class Admitter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastCheck = 0;

  constructor(private readonly deps: AdmitterDeps) {}

  start(): void {
    const every = this.deps.intervalMs ?? 200;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick()
        .catch((error: unknown) => {
          this.deps.logger.warn('admitter tick failed', { error });
        })
        .finally(() => (this.running = undefined));
    }, every);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass: for every event with buyers waiting, check ended sagas (now and then) and admit. */
  async tick(): Promise<void> {
    const events = await this.deps.room.waitingEvents();
    const check = Date.now() - this.lastCheck >= (this.deps.checkEveryMs ?? 5000);
    if (check) this.lastCheck = Date.now();
    for (const eventId of events) {
      if (check) await this.check(eventId);
      for (let round = 0; round < MAX_ROUNDS_PER_PASS; round++) {
        const batch = await this.deps.room.admitNext(eventId);
        // Places held by sagas (none told sold out) come back when those end: the next tick.
        if (batch.length === 0 || (await this.admitBatch(batch)) === 0) break;
      }
    }
  }

  /**
   * Admits one batch the room popped (in arrival order): the buyers whose ticket types are flagged
   * sold out are told so (no saga; their places come back at once), the others are placed in order.
   * The flags are read once per batch (one GET per ticket type, not per buyer); placing an order
   * reads them again (placeAdmittedOrder), so a flag set meanwhile still spares a saga.
   * @returns how many were told sold out (places given back).
   */
  private async admitBatch(batch: PlaceOrder[]): Promise<number> {
    const { room, soldOut, logger } = this.deps;
    const flags = new Map<string, Promise<string[]>>();
    const flaggedOf = (order: PlaceOrder): Promise<string[]> => {
      if (!soldOut) return Promise.resolve([]);
      const types = [...new Set(order.items.map((i) => i.ticketType))].sort();
      const key = JSON.stringify([order.eventId, types]);
      let found = flags.get(key);
      if (!found) {
        // A flag that cannot be read is no flag: the order is placed and its saga finds out.
        found = soldOut.flagged(order.eventId, types).catch(() => []);
        flags.set(key, found);
      }
      return found;
    };
    const told: PlaceOrder[] = [];
    const toPlace: PlaceOrder[] = [];
    for (const order of batch) ((await flaggedOf(order)).length > 0 ? told : toPlace).push(order);
    // Told together: one script each, all in flight at once on the one connection.
    const toldOk = await Promise.all(
      told.map((order) =>
        room.toldSoldOut(order.eventId, order.orderId).then(
          () => {
            logger.info('queued buyer told sold out', { orderId: order.orderId, eventId: order.eventId });
            return true;
          },
          (error: unknown) => {
            // Still admitted with its request kept: the check tells it (or places it) again.
            logger.warn('telling a queued buyer sold out failed; the check will retry it', {
              orderId: order.orderId,
              error,
            });
            return false;
          },
        ),
      ),
    );
    for (const order of toPlace) {
      // One failure must not strand the rest of the batch; the check re-places a failed one.
      await this.admit(order).catch((error: unknown) => {
        this.deps.logger.warn('admitting a queued order failed; the check will retry it', {
          orderId: order.orderId,
          error,
        });
      });
    }
    return toldOk.filter(Boolean).length;
  }

  private async admit(order: PlaceOrder): Promise<void> {
    const { room, runtime, store, soldOut } = this.deps;
    const placed = await placeAdmittedOrder({ runtime, store, soldOut, waitingRoom: room }, order);
    if (placed === 'sold-out')
      this.deps.logger.info('queued buyer told sold out', { orderId: order.orderId, eventId: order.eventId });
    else this.deps.logger.info('queued order admitted', { orderId: order.orderId, eventId: order.eventId });
  }

  private async check(eventId: string): Promise<void> {
    for (const { orderId, admittedAt } of await this.deps.room.active(eventId)) {
      const saga = await this.deps.store.load(orderId);
      if (saga && isFinalState(saga.sagaState)) await this.deps.room.ended(eventId, orderId);
      if (!saga) {
        // Admitted, but the process placing it died first: place it now (idempotent by id).
        const pending = await this.deps.room.pendingRequest(orderId);
        if (pending) await this.admit(pending);
        // Admitted at POST, but that process died before placing: the buyer got no 202, the place goes back.
        else if (Date.now() - admittedAt > LOST_AFTER_MS) await this.deps.room.ended(eventId, orderId);
      }
    }
  }
}
