/**
 * One shared poll per watched saga. Every open stream or feed of saga X in this process
 * subscribes to X's one watch, which reads X's version once per poll (one strongly consistent
 * GetItem) and its new history rows once per step (one Query), and hands both to every
 * subscriber. So the DynamoDB cost of live pages grows with the number of distinct sagas watched,
 * not with the number of open pages: 40 pages of one saga cost what one page costs. The number of
 * pages is bounded per caller by LiveConnections (STREAM_MAX_PER_CALLER).
 *
 * Workers are other processes, hence the poll (STREAM_POLL_MS).
 */
import type { Logger } from '../../observability/logger';
import type { SagaHistoryEntry, SagaStore, StoredSaga } from '../../store/saga-store';

/** What a subscriber is handed each poll: the saga as stored now, or null once it is gone. */
export type SagaListener = (saga: StoredSaga | null) => void;

export interface SagaWatch {
  /** The saga's history rows with version > `version`, oldest first, up to the last one polled. */
  rowsAfter(version: number): Promise<SagaHistoryEntry[]>;
  /** Unsubscribes; the poll stops with the last subscriber. */
  close(): void;
}

interface Watch {
  orderId: string;
  listeners: Set<SagaListener>;
  latest: StoredSaga | null | undefined;
  /** History rows read so far, from version 1, contiguous. */
  rows: SagaHistoryEntry[];
  reading: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
  polling: boolean;
}

export class SagaWatches {
  private readonly watches = new Map<string, Watch>();

  /** `pollMs`: STREAM_POLL_MS. */
  constructor(
    private readonly store: Pick<SagaStore, 'load' | 'history'>,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  /** Sagas watched now (each costs one read per poll). */
  get watched(): number {
    return this.watches.size;
  }

  /**
   * Subscribes `listener` to saga `orderId`: called after each poll (the first one at once, or with
   * the last poll's result when the watch already runs).
   */
  watch(orderId: string, listener: SagaListener): SagaWatch {
    let watch = this.watches.get(orderId);
    if (!watch) {
      watch = {
        orderId,
        listeners: new Set(),
        latest: undefined,
        rows: [],
        reading: undefined,
        timer: undefined,
        polling: false,
      };
      this.watches.set(orderId, watch);
      void this.poll(watch);
    } else if (watch.latest !== undefined) {
      const latest = watch.latest;
      queueMicrotask(() => watch!.listeners.has(listener) && listener(latest));
    }
    watch.listeners.add(listener);
    const w = watch;
    return {
      rowsAfter: (version) => this.rowsAfter(w, version),
      close: () => {
        w.listeners.delete(listener);
        if (w.listeners.size === 0) this.stop(w);
      },
    };
  }

  /** Stops every watch (shutdown). */
  close(): void {
    for (const watch of [...this.watches.values()]) this.stop(watch);
  }

  private stop(watch: Watch): void {
    clearTimeout(watch.timer);
    watch.timer = undefined;
    if (this.watches.get(watch.orderId) === watch) this.watches.delete(watch.orderId);
  }

  private async poll(watch: Watch): Promise<void> {
    if (this.watches.get(watch.orderId) !== watch || watch.polling) return;
    watch.polling = true;
    try {
      watch.latest = (await this.store.load(watch.orderId)) ?? null;
      for (const listener of [...watch.listeners]) listener(watch.latest);
    } catch (error) {
      this.logger.warn('saga watch: poll failed', { orderId: watch.orderId, error: String(error) });
    } finally {
      watch.polling = false;
    }
    if (this.watches.get(watch.orderId) === watch) {
      watch.timer = setTimeout(() => void this.poll(watch), this.pollMs);
      watch.timer.unref();
    }
  }

  private async rowsAfter(watch: Watch, version: number): Promise<SagaHistoryEntry[]> {
    const wanted = watch.latest?.sagaVersion ?? 0;
    // One read per step whatever the number of subscribers: concurrent callers share it.
    while ((watch.rows.at(-1)?.version ?? 0) < wanted) {
      watch.reading ??= (async () => {
        try {
          const from = watch.rows.at(-1)?.version ?? 0;
          const more = await this.store.history(watch.orderId, from);
          watch.rows.push(...more.filter((r) => r.version > (watch.rows.at(-1)?.version ?? 0)));
        } finally {
          watch.reading = undefined;
        }
      })();
      const before = watch.rows.length;
      await watch.reading;
      // The Events row of a version is written in the same transaction as the version: a row
      // still missing means nothing more to read now.
      if (watch.rows.length === before) break;
    }
    return watch.rows.filter((r) => r.version > version);
  }
}
