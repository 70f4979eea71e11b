/**
 * The console's saga list: every saga, newest first (StatusOrdersIndex, newest `createdKey` first,
 * merged over the status partitions), filtered by state, status, customer, event and age, by
 * "stuck" with the one definition of stuck, and searchable by orderId or orderNumber. It sorted
 * on activity (`updatedAt`) while StatusIndex existed; issue 25 retired that index (its key moved
 * on every step), and what moves now is shown by the live list stream (GET /sagas/stream, the
 * TicketOrders stream). Sorting on the creation key also keeps a saga's place while it steps.
 *
 * The index is KEYS_ONLY (src/store/order-queries.ts says why): it gives the ids in creation
 * order, and each candidate is read from the base table (BatchGetItem, strongly consistent) for
 * the filters, its stuck verdict and its current state. The index may lag a status change.
 */
import {
  assessStuck,
  FINAL_STATES,
  OPEN_ORDER_STATUSES,
  ORDER_STATUS_BY_STATE,
  type OrderSagaState,
  type OrderStatus,
  type StuckVerdict,
} from '../../machines/order-saga';
import { ORDER_STATUSES } from '../http/schemas';
import type { StuckSagas } from '../ops/stuck-sagas';
import type { SagaStore, StoredSaga } from '../store/saga-store';

export interface SagaListFilter {
  state?: OrderSagaState;
  status?: OrderStatus;
  customerId?: string;
  eventId?: string;
  /** Only sagas created within this many ms. */
  maxAgeMs?: number;
  stuck?: boolean;
  /** Only sagas still at work (not in a final state). */
  open?: boolean;
  /** An orderId or an orderNumber. */
  q?: string;
}

export interface SagaListRow {
  saga: StoredSaga;
  stuck: StuckVerdict | null;
}

export interface SagaListPage {
  rows: SagaListRow[];
  /** Opaque, for the next page; null on the last. */
  nextCursor: string | null;
}

export interface SagaListingDeps {
  /** The saga store: StatusOrdersIndex's pages and counts, and the current items. */
  store: Pick<SagaStore, 'loadMany' | 'createdInStatus' | 'countCreatedInStatusSince'>;
  stuck: StuckSagas;
  stuckAfterMs: number;
  /** Finds an order by its orderNumber (src/store/order-numbers.ts), when searching. */
  findByOrderNumber?: (orderNumber: string) => Promise<string | undefined>;
  now?: () => Date;
}

interface Cursor {
  /** createdKey (`createdAt#orderId`, unique) of the last row shown: the next page is older. */
  k: string;
}

const MAX_QUERIES_PER_PARTITION = 20;

function encode(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

/** The cursor, or undefined when it is not one of ours (the page then starts over). */
function decode(text: string | undefined): Cursor | undefined {
  if (!text || !/^[A-Za-z0-9_-]{1,4096}$/.test(text)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Cursor;
    if (typeof value.k === 'string' && value.k.length <= 400) return value;
  } catch {
    /* not ours */
  }
  return undefined;
}

interface IndexRow {
  orderId: string;
  /** The index's createdKey (the cursor's order). */
  createdKey: string;
  /** The current item, read from the base table. */
  saga: StoredSaga;
}

export class SagaListing {
  private readonly now: () => Date;

  constructor(private readonly deps: SagaListingDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async list(filter: SagaListFilter, limit: number, cursorText?: string): Promise<SagaListPage> {
    const now = this.now();
    if (filter.q) return { rows: await this.search(filter.q.trim(), now), nextCursor: null };
    if (filter.stuck) return this.stuckPage(filter, limit, now);

    const cursor = decode(cursorText);
    const statuses = filter.status
      ? [filter.status]
      : filter.state
        ? [ORDER_STATUS_BY_STATE[filter.state]]
        : filter.open
          ? [...OPEN_ORDER_STATUSES]
          : [...ORDER_STATUSES];
    const perPartition = await Promise.all(
      statuses.map((status) => this.partition(status, filter, limit + 1, cursor, now)),
    );
    // A saga that changed status between the partition queries may come from two: kept once.
    const unique = new Map<string, IndexRow>();
    for (const row of perPartition.flat()) unique.set(row.orderId, row);
    const merged = [...unique.values()].sort((a, b) => (a.createdKey < b.createdKey ? 1 : -1));
    const shown = merged.slice(0, limit);
    const more = merged.length > limit;
    const last = shown.at(-1);
    const nextCursor = more && last ? encode({ k: last.createdKey }) : null;
    return {
      rows: shown.map((r) => ({ saga: r.saga, stuck: assessStuck(r.saga, now, this.deps.stuckAfterMs) })),
      nextCursor,
    };
  }

  /**
   * Up to `want` rows of one status partition after the cursor, filtered. The status index
   * (SagaStore.createdInStatus) is KEYS_ONLY (status, createdKey, orderId): the filters are applied
   * to the base items (read strongly consistent), so each index page is read and then its orders.
   */
  private async partition(
    status: OrderStatus,
    filter: SagaListFilter,
    want: number,
    cursor: Cursor | undefined,
    now: Date,
  ): Promise<IndexRow[]> {
    const since = filter.maxAgeMs === undefined ? undefined : new Date(now.getTime() - filter.maxAgeMs).toISOString();
    const filtered = Boolean(filter.state || filter.customerId || filter.eventId || since);
    // Judged on the current item. A saga that stepped between the partition queries may come from
    // two partitions (list() keeps one) or, with the index lagging, from its old one: it is shown
    // as it is now, never dropped for having moved.
    const keep = (saga: StoredSaga): boolean =>
      (!filter.status || saga.status === filter.status) &&
      (!filter.state || saga.sagaState === filter.state) &&
      (!filter.customerId || saga.customerId === filter.customerId) &&
      (!filter.eventId || saga.eventId === filter.eventId) &&
      (!since || saga.createdAt >= since);
    const rows: IndexRow[] = [];
    let start: Record<string, unknown> | undefined;
    for (let i = 0; i < MAX_QUERIES_PER_PARTITION; i++) {
      const page = await this.deps.store.createdInStatus(status, {
        before: cursor?.k,
        // Created within maxAgeMs: the index narrows the walk to the window.
        since,
        newestFirst: true,
        // A filter keeps only some of a page: read more of the index at a time then.
        limit: filtered ? Math.max(want * 4, 100) : want,
        startKey: start,
      });
      const candidates = page.rows;
      const current = await this.deps.store.loadMany(candidates.map((c) => c.orderId));
      for (const item of candidates) {
        const saga = current.get(item.orderId);
        if (saga && keep(saga)) rows.push({ orderId: item.orderId, createdKey: item.createdKey, saga });
      }
      start = page.nextKey;
      if (!start || rows.length >= want) break;
    }
    return rows.slice(0, want);
  }

  private async rows(orderIds: string[], now: Date): Promise<SagaListRow[]> {
    const current = await this.deps.store.loadMany(orderIds);
    return orderIds
      .map((id) => current.get(id))
      .filter((s): s is StoredSaga => s !== undefined)
      .map((saga) => ({ saga, stuck: assessStuck(saga, now, this.deps.stuckAfterMs) }));
  }

  private async search(q: string, now: Date): Promise<SagaListRow[]> {
    let orderId: string | undefined = q;
    if (/^ET-/i.test(q) && this.deps.findByOrderNumber) orderId = await this.deps.findByOrderNumber(q.toUpperCase());
    if (!orderId || orderId.length > 200) return [];
    return this.rows([orderId], now);
  }

  /** Stuck sagas (the stuck listing, most stuck first), then the other filters. */
  private async stuckPage(filter: SagaListFilter, limit: number, now: Date): Promise<SagaListPage> {
    const listing = await this.deps.stuck.list(500);
    const rows = await this.rows(
      listing.items.map((s) => s.orderId),
      now,
    );
    const since = filter.maxAgeMs === undefined ? undefined : new Date(now.getTime() - filter.maxAgeMs).toISOString();
    const kept = rows.filter(
      ({ saga, stuck }) =>
        stuck !== null &&
        (!filter.state || saga.sagaState === filter.state) &&
        (!filter.status || saga.status === filter.status) &&
        (!filter.customerId || saga.customerId === filter.customerId) &&
        (!filter.eventId || saga.eventId === filter.eventId) &&
        (!since || saga.createdAt >= since),
    );
    return { rows: kept.slice(0, limit), nextCursor: null };
  }

  /**
   * How many sagas are in each state: the open ones from `openSagas` (the overview's one scan of
   * the open sagas, read from the base table — an open status holds several states, which the
   * KEYS_ONLY status index cannot tell apart), and the final ones created within `finalWindowMs`
   * (default 24 h) counted on StatusOrdersIndex (SagaStore.countCreatedInStatusSince; a final
   * status is one state) — all of history would make each overview read the whole index. Counted
   * by creation time since issue 25 retired the index on `updatedAt`: a saga lives minutes, so
   * "created in the last 24 h" and "ended in the last 24 h" differ only at the window's edges.
   */
  async countsByState(
    openSagas: readonly StoredSaga[],
    finalWindowMs = 24 * 3600_000,
  ): Promise<Record<string, number>> {
    const counts: Record<string, number> = Object.fromEntries(Object.keys(ORDER_STATUS_BY_STATE).map((s) => [s, 0]));
    for (const saga of openSagas) counts[saga.sagaState] = (counts[saga.sagaState] ?? 0) + 1;
    const since = new Date(this.now().getTime() - finalWindowMs).toISOString();
    await Promise.all(
      FINAL_STATES.map(async (state) => {
        const ended = await this.deps.store.countCreatedInStatusSince(ORDER_STATUS_BY_STATE[state], since);
        counts[state] = (counts[state] ?? 0) + ended;
      }),
    );
    return counts;
  }
}
