/**
 * Every open list stream (GET /sagas/stream) of this process reads one shared tail of the
 * TicketOrders stream (src/store/order-stream.ts, issue 25: "the activity feed reads a stream, not
 * an index"): however many list pages are open, the process polls each stream shard at most
 * 2 times a second and reads nothing else. Each step comes with the saga as the step left its
 * order item (the stream's NEW_IMAGE).
 *
 * Resuming (Last-Event-ID = `<updatedAt>~<orderId>`): from the tail's buffer when it holds the
 * mark (the steps after it, in stream order: nothing missed or repeated); otherwise — the mark is
 * older than the tail (this process started after it, or the buffer moved past it), or the tail
 * reported a gap — from a bounded listing read (`recentSince`: the newest orders of each status
 * whose item changed after the mark, as they are now, oldest first). That fallback shows the
 * sagas that changed, not every step they took, and at most its bound of them: the list page is
 * the truth, this stream says "the list changed".
 */
import type { Logger } from '../../observability/logger';
import { isAfterMark, type OrderStepSource, type SagaStepMark } from '../../store/order-stream';
import type { StoredSaga } from '../../store/saga-store';

/** A step of the list stream: its SSE id is `<updatedAt>~<orderId>`; `saga` as the step left it. */
export interface ListStep {
  mark: SagaStepMark;
  saga: StoredSaga | undefined;
}

/** Position in the list stream: steps strictly after it are new. */
export interface ListMark {
  u: string;
  o: string;
}

export const isAfter = (r: SagaStepMark, mark: ListMark): boolean =>
  isAfterMark(r, { updatedAt: mark.u, orderId: mark.o });

const byMark = (a: SagaStepMark, b: SagaStepMark): number =>
  a.updatedAt === b.updatedAt ? (a.orderId < b.orderId ? -1 : 1) : a.updatedAt < b.updatedAt ? -1 : 1;

const idOf = (m: SagaStepMark): string => `${m.updatedAt}~${m.orderId}`;

export interface ListWatchDeps {
  /** The shared tail of the TicketOrders stream. */
  steps: OrderStepSource;
  /**
   * The fallback for a resume the tail cannot serve: sagas whose order item changed at or after
   * `since` (ISO 8601), as stored now, bounded (a listing read: src/console/live/live.ts).
   */
  recentSince(since: string): Promise<ListStep[]>;
  logger: Logger;
}

export class ListWatch {
  constructor(private readonly deps: ListWatchDeps) {}

  /**
   * Follows the list from `from` (a resumed stream) or from now: `listener` gets the steps after
   * it, in order, each once per connection. Returns the unsubscribe function.
   */
  async follow(from: ListMark | undefined, listener: (steps: ListStep[]) => void): Promise<() => void> {
    const sent = new Set<string>();
    const SENT_MAX = 10000;
    const deliver = (steps: ListStep[]) => {
      const fresh = steps.filter((s) => !sent.has(idOf(s.mark)));
      if (fresh.length === 0) return;
      for (const s of fresh) sent.add(idOf(s.mark));
      if (sent.size > SENT_MAX) for (const id of [...sent].slice(0, sent.size - SENT_MAX)) sent.delete(id);
      listener(fresh);
    };
    // Live steps are held while a gap is read, then merged after it.
    let held: ListStep[] | undefined;
    let lastMark: ListMark | undefined = from;
    const readGap = async (mark: ListMark) => {
      held ??= [];
      try {
        const gap = (await this.deps.recentSince(mark.u))
          .filter((s) => isAfter(s.mark, mark))
          .sort((a, b) => byMark(a.mark, b.mark));
        deliver(gap);
      } finally {
        const live = held ?? [];
        held = undefined;
        deliver(live);
      }
    };
    const track = (steps: ListStep[]) => {
      const last = steps.at(-1);
      if (last) lastMark = { u: last.mark.updatedAt, o: last.mark.orderId };
    };
    const unsubscribe = this.deps.steps.subscribe((event) => {
      if (event.kind === 'gap') {
        this.deps.logger.warn('list watch: the order stream reported a gap', { reason: event.reason });
        if (lastMark && !held) void readGap(lastMark).catch(() => undefined);
        return;
      }
      const steps = event.steps.map((s): ListStep => ({ mark: s.mark, saga: s.saga }));
      if (held) held.push(...steps);
      else {
        deliver(steps);
        track(steps);
      }
    });
    if (from) {
      // Synchronous with the subscribe above: no step lands between the two.
      const buffered = this.deps.steps.stepsAfter({ updatedAt: from.u, orderId: from.o });
      if (buffered) {
        const steps = buffered.map((s): ListStep => ({ mark: s.mark, saga: s.saga }));
        deliver(steps);
        track(steps);
      } else {
        try {
          await readGap(from);
        } catch (error) {
          unsubscribe();
          throw error;
        }
      }
    }
    return unsubscribe;
  }

  /** Stops the shared tail (shutdown). */
  close(): void {
    this.deps.steps.close();
  }
}
