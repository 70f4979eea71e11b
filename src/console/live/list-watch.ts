/**
 * One shared poll for every open list stream (GET /sagas/stream) of this process: one round of
 * status-index queries per poll (6, one per status: src/store/saga-steps.ts) plus one BatchGetItem
 * when sagas stepped, however many list pages are open. A stream that resumes from an older
 * Last-Event-ID reads its gap once on its own (the same queries), then follows the shared poll.
 */
import type { Logger } from '../../observability/logger';
import type { SagaStepMark } from '../../store/saga-steps';
import type { StoredSaga } from '../../store/saga-store';

/** A step of the list stream: its SSE id is `<updatedAt>~<orderId>`; `saga` as stored now. */
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
  r.updatedAt > mark.u || (r.updatedAt === mark.u && r.orderId > mark.o);

const byMark = (a: SagaStepMark, b: SagaStepMark): number =>
  a.updatedAt === b.updatedAt ? (a.orderId < b.orderId ? -1 : 1) : a.updatedAt < b.updatedAt ? -1 : 1;

export interface ListWatchDeps {
  /** Index rows with updatedAt >= since (one Query per status). */
  steppedSince(since: string): Promise<SagaStepMark[]>;
  /** The sagas by id, as stored now. */
  loadMany(orderIds: readonly string[]): Promise<Map<string, StoredSaga>>;
  pollMs: number;
  logger: Logger;
  now?: () => Date;
}

export class ListWatch {
  private readonly listeners = new Set<(steps: ListStep[]) => void>();
  private mark: ListMark | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ListWatchDeps) {}

  /**
   * Follows the list from `from` (a resumed stream) or from now: `listener` gets the steps after
   * it, in order, each once. Returns the unsubscribe function.
   */
  async follow(from: ListMark | undefined, listener: (steps: ListStep[]) => void): Promise<() => void> {
    let mark = from ?? { u: (this.deps.now?.() ?? new Date()).toISOString(), o: '' };
    // Buffer the shared poll's steps while this stream reads its own gap, then merge.
    let buffered: ListStep[] | undefined = from ? [] : undefined;
    const deliver = (steps: ListStep[]) => {
      const fresh = steps.filter((s) => isAfter(s.mark, mark));
      if (fresh.length === 0) return;
      mark = { u: fresh.at(-1)!.mark.updatedAt, o: fresh.at(-1)!.mark.orderId };
      listener(fresh);
    };
    const onShared = (steps: ListStep[]) => (buffered ? buffered.push(...steps) : deliver(steps));
    this.listeners.add(onShared);
    if (this.listeners.size === 1) {
      this.mark = { u: (this.deps.now?.() ?? new Date()).toISOString(), o: '' };
      this.schedule(0);
    }
    if (from) {
      try {
        const gap = await this.read(from);
        const all = [...gap, ...(buffered ?? [])].sort((a, b) => byMark(a.mark, b.mark));
        const seen = new Set<string>();
        buffered = undefined;
        deliver(
          all.filter(
            (s) =>
              !seen.has(`${s.mark.updatedAt}~${s.mark.orderId}`) && seen.add(`${s.mark.updatedAt}~${s.mark.orderId}`),
          ),
        );
      } catch (error) {
        this.unfollow(onShared);
        throw error;
      }
    }
    return () => this.unfollow(onShared);
  }

  /** Stops the shared poll (shutdown). */
  close(): void {
    this.listeners.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private unfollow(listener: (steps: ListStep[]) => void): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) this.close();
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), ms);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (this.listeners.size === 0 || !this.mark) return;
    try {
      const steps = await this.read(this.mark);
      if (steps.length > 0) {
        const last = steps.at(-1)!.mark;
        this.mark = { u: last.updatedAt, o: last.orderId };
        for (const listener of [...this.listeners]) listener(steps);
      }
    } catch (error) {
      this.deps.logger.warn('list watch: poll failed', { error: String(error) });
    }
    if (this.listeners.size > 0) this.schedule(this.deps.pollMs);
  }

  /** The steps after `mark`, in order, with each saga as stored now. */
  private async read(mark: ListMark): Promise<ListStep[]> {
    const rows = (await this.deps.steppedSince(mark.u)).filter((r) => isAfter(r, mark)).sort(byMark);
    if (rows.length === 0) return [];
    const current = await this.deps.loadMany([...new Set(rows.map((r) => r.orderId))]);
    return rows.map((r) => ({ mark: { orderId: r.orderId, updatedAt: r.updatedAt }, saga: current.get(r.orderId) }));
  }
}
