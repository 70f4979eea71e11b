/**
 * The console's saga list: every saga, most recently active first (StatusIndex, newest
 * `updatedAt` first, merged over the status partitions), filtered by state, status, customer,
 * event and age in DynamoDB (FilterExpression on projected attributes), by "stuck" with the one
 * definition of stuck, and searchable by orderId or orderNumber.
 *
 * The index is eventually consistent: a listing may lag a step; each shown row is re-read from
 * the base table (strongly consistent) for its stuck verdict and current state.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  assessStuck,
  OPEN_ORDER_STATUSES,
  ORDER_STATUS_BY_STATE,
  type OrderSagaState,
  type OrderStatus,
  type StuckVerdict,
} from '../../machines/order-saga';
import { ORDER_STATUSES } from '../api/schemas';
import type { ResourceNames } from '../infra/resources';
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
  doc: DynamoDBDocumentClient;
  tables: Pick<ResourceNames['tables'], 'orders'>;
  store: SagaStore;
  stuck: StuckSagas;
  stuckAfterMs: number;
  /** Finds an order by its orderNumber (src/store/order-numbers.ts), when searching. */
  findByOrderNumber?: (orderNumber: string) => Promise<string | undefined>;
  now?: () => Date;
}

interface Cursor {
  /** updatedAt of the last row shown. */
  u: string;
  /** orderIds shown with exactly that updatedAt. */
  ids: string[];
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
    if (typeof value.u === 'string' && Array.isArray(value.ids) && value.ids.every((id) => typeof id === 'string')) return value;
  } catch {
    /* not ours */
  }
  return undefined;
}

interface IndexRow {
  orderId: string;
  updatedAt: string;
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
    const perPartition = await Promise.all(statuses.map((status) => this.partition(status, filter, limit + 1, cursor, now)));
    const merged = perPartition
      .flat()
      .sort((a, b) => (a.updatedAt === b.updatedAt ? (a.orderId < b.orderId ? 1 : -1) : a.updatedAt < b.updatedAt ? 1 : -1));
    const shown = merged.slice(0, limit);
    const more = merged.length > limit;
    const last = shown.at(-1);
    const nextCursor =
      more && last
        ? encode({ u: last.updatedAt, ids: [...(cursor && cursor.u === last.updatedAt ? cursor.ids : []), ...shown.filter((r) => r.updatedAt === last.updatedAt).map((r) => r.orderId)] })
        : null;
    return { rows: await this.rows(shown.map((r) => r.orderId), now), nextCursor };
  }

  /** Up to `want` rows of one status partition after the cursor, filtered. */
  private async partition(status: OrderStatus, filter: SagaListFilter, want: number, cursor: Cursor | undefined, now: Date): Promise<IndexRow[]> {
    const names: Record<string, string> = { '#s': 'status', '#u': 'updatedAt', '#o': 'orderId' };
    const values: Record<string, unknown> = { ':s': status };
    const filters: string[] = [];
    let key = '#s = :s';
    if (cursor) {
      key += ' AND #u <= :u';
      values[':u'] = cursor.u;
    }
    if (filter.state) {
      names['#st'] = 'sagaState';
      values[':st'] = filter.state;
      filters.push('#st = :st');
    }
    if (filter.customerId) {
      names['#c'] = 'customerId';
      values[':c'] = filter.customerId;
      filters.push('#c = :c');
    }
    if (filter.eventId) {
      names['#e'] = 'eventId';
      values[':e'] = filter.eventId;
      filters.push('#e = :e');
    }
    if (filter.maxAgeMs !== undefined) {
      names['#cr'] = 'createdAt';
      values[':since'] = new Date(now.getTime() - filter.maxAgeMs).toISOString();
      filters.push('#cr >= :since');
    }
    const rows: IndexRow[] = [];
    let start: Record<string, unknown> | undefined;
    for (let i = 0; i < MAX_QUERIES_PER_PARTITION; i++) {
      const page = await this.deps.doc.send(
        new QueryCommand({
          TableName: this.deps.tables.orders,
          IndexName: 'StatusIndex',
          KeyConditionExpression: key,
          FilterExpression: filters.length > 0 ? filters.join(' AND ') : undefined,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ProjectionExpression: '#o, #u',
          ScanIndexForward: false,
          // Filters apply after Limit: read generously so a sparse filter needs few round trips.
          Limit: Math.max(want * 4, 200),
          ExclusiveStartKey: start,
        }),
      );
      for (const item of (page.Items ?? []) as IndexRow[]) {
        if (cursor && item.updatedAt === cursor.u && cursor.ids.includes(item.orderId)) continue;
        rows.push(item);
      }
      start = page.LastEvaluatedKey;
      if (!start || rows.length >= want) break;
    }
    return rows.slice(0, want);
  }

  private async rows(orderIds: string[], now: Date): Promise<SagaListRow[]> {
    const sagas = await Promise.all(orderIds.map((id) => this.deps.store.load(id)));
    return sagas.filter((s): s is StoredSaga => s !== undefined).map((saga) => ({ saga, stuck: assessStuck(saga, now, this.deps.stuckAfterMs) }));
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
    const rows = await this.rows(listing.items.map((s) => s.orderId), now);
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
   * How many sagas are in each state (StatusIndex, sagaState projected): every open saga, and the
   * final ones that ended within `finalWindowMs` (default 24 h) — all of history would make each
   * overview read the whole index.
   */
  async countsByState(finalWindowMs = 24 * 3600_000): Promise<Record<string, number>> {
    const counts: Record<string, number> = Object.fromEntries(Object.keys(ORDER_STATUS_BY_STATE).map((s) => [s, 0]));
    const open = new Set(OPEN_ORDER_STATUSES);
    const since = new Date(this.now().getTime() - finalWindowMs).toISOString();
    await Promise.all(
      ORDER_STATUSES.map(async (status) => {
        let start: Record<string, unknown> | undefined;
        const windowed = !open.has(status);
        do {
          const page = await this.deps.doc.send(
            new QueryCommand({
              TableName: this.deps.tables.orders,
              IndexName: 'StatusIndex',
              KeyConditionExpression: windowed ? '#s = :s AND #u >= :since' : '#s = :s',
              ExpressionAttributeNames: { '#s': 'status', '#st': 'sagaState', ...(windowed ? { '#u': 'updatedAt' } : {}) },
              ExpressionAttributeValues: { ':s': status, ...(windowed ? { ':since': since } : {}) },
              ProjectionExpression: '#st',
              ExclusiveStartKey: start,
            }),
          );
          for (const item of page.Items ?? []) {
            const state = String(item.sagaState);
            counts[state] = (counts[state] ?? 0) + 1;
          }
          start = page.LastEvaluatedKey;
        } while (start);
      }),
    );
    return counts;
  }
}
