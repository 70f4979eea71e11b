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
      for (const order of await this.deps.room.admitNext(eventId)) {
        // One failure must not strand the rest of the batch; the check re-places a failed one.
        await this.admit(order).catch((error: unknown) => {
          this.deps.logger.warn('admitting a queued order failed; the check will retry it', {
            orderId: order.orderId,
            error,
          });
        });
      }
    }
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
