/**
 * Live sagas over Server-Sent Events (WHATWG HTML §9.2).
 *
 * GET /sagas/:orderId/stream: one `step` event per history row, `id:` = the saga version it
 * made. A client that reconnects with Last-Event-ID: N (or ?lastEventId=N) gets every row after
 * N, then the live ones; a row is sent once per connection, in version order, so nothing is
 * missed or repeated.
 *
 * GET /sagas/stream: one `saga` event per saga step seen on StatusIndex (orderId, version, state,
 * status, updatedAt — read from the base table, the index being KEYS_ONLY), `id:` =
 * `<updatedAt>~<orderId>` as the index gave it, resumable the same way. The index is eventually
 * consistent: this stream says "the list changed", the list page is the truth.
 *
 * Workers are other processes, so the API learns of a step by polling the saga's version. At the
 * default poll of 1 s, each open saga page costs 1 DynamoDB request/s (a strongly consistent
 * GetItem: 1 RCU per 4 KB of item) plus one Query per step taken; each open list page costs one
 * Query per status partition per poll, 6 requests/s, plus one BatchGetItem when sagas stepped. STREAM_POLL_MS trades
 * freshness for cost.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { requireRole } from '../auth/require-role';
import { Router, type Request, type Response } from 'express';
import { apiRouter } from '../router';
import type { ConsoleDeps } from '../../console/deps';
import type { SagaHistoryEntry, StoredSaga } from '../../store/saga-store';
import { listStreamQuerySchema, sagaStreamQuerySchema, type StreamQuery } from '../console-schemas';
import { ProblemError } from '../problem';
import { ORDER_STATUSES } from '../schemas';
import { queryValidator } from '../validation';
import { orderIdParam, queryOf } from './orders';

const validateSagaStream = queryValidator<StreamQuery>(sagaStreamQuerySchema);
const validateListStream = queryValidator<StreamQuery>(listStreamQuerySchema);

/** A comment line every this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

function openStream(
  req: Request,
  res: Response,
): { send: (id: string, event: string, data: unknown) => void; closed: () => boolean } {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.write('retry: 1000\n\n');
  let closed = false;
  req.on('close', () => (closed = true));
  return {
    send: (id, event, data) => {
      if (!closed) res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    closed: () => closed || res.writableEnded,
  };
}

function lastEventIdOf(req: Request, query: StreamQuery): string | undefined {
  return req.get('Last-Event-ID') ?? query.lastEventId;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a step event carries. */
export function stepEvent(entry: SagaHistoryEntry, state: { state: string; status: string; version: number }) {
  return {
    version: entry.version,
    eventType: entry.eventType,
    fromState: entry.fromState,
    toState: entry.toState,
    timestamp: entry.timestamp,
    actor: entry.actor ?? null,
    saga: state,
  };
}

export function streamRouter(deps: ConsoleDeps): Router {
  const router = apiRouter();
  const pollMs = deps.streamPollMs ?? 1000;

  router.get('/sagas/stream', requireRole('operator'), async (req: Request, res: Response) => {
    const query = validateListStream(queryOf(req), 'query');
    const last = lastEventIdOf(req, query);
    const parsed = last ? /^(\d{4}-\d{2}-\d{2}T[0-9:.]+Z)~(.{1,200})$/.exec(last) : null;
    if (last && !parsed)
      throw new ProblemError('invalid-header', 'Last-Event-ID must be <updatedAt>~<orderId> from this stream', [
        { field: 'Last-Event-ID', message: 'not an id of this stream' },
      ]);
    let mark = parsed ? { u: parsed[1], o: parsed[2] } : { u: new Date().toISOString(), o: '' };
    const stream = openStream(req, res);
    let beat = Date.now();
    while (!stream.closed()) {
      // StatusIndex is KEYS_ONLY (status, updatedAt, orderId): it says which sagas stepped and in
      // what order; what they are now is read from the base table.
      const rows: Array<{ orderId: string; updatedAt: string }> = [];
      await Promise.all(
        ORDER_STATUSES.map(async (status) => {
          const page = await deps.doc.send(
            new QueryCommand({
              TableName: deps.tables.orders,
              IndexName: 'StatusIndex',
              KeyConditionExpression: '#s = :s AND #u >= :u',
              ExpressionAttributeNames: { '#s': 'status', '#u': 'updatedAt' },
              ExpressionAttributeValues: { ':s': status, ':u': mark.u },
              Limit: 100,
            }),
          );
          rows.push(...((page.Items ?? []) as typeof rows));
        }),
      );
      const after = rows
        .filter((r) => r.updatedAt > mark.u || (r.updatedAt === mark.u && r.orderId > mark.o))
        .sort((a, b) =>
          a.updatedAt === b.updatedAt ? (a.orderId < b.orderId ? -1 : 1) : a.updatedAt < b.updatedAt ? -1 : 1,
        );
      const current =
        after.length > 0 ? await deps.store.loadMany(after.map((r) => r.orderId)) : new Map<string, StoredSaga>();
      for (const r of after) {
        const saga = current.get(r.orderId);
        if (saga)
          stream.send(`${r.updatedAt}~${r.orderId}`, 'saga', {
            orderId: r.orderId,
            version: saga.sagaVersion,
            state: saga.sagaState,
            status: saga.status,
            updatedAt: saga.updatedAt,
          });
        mark = { u: r.updatedAt, o: r.orderId };
      }
      if (Date.now() - beat > HEARTBEAT_MS) {
        res.write(': keep-alive\n\n');
        beat = Date.now();
      }
      await sleep(pollMs);
    }
  });

  router.get('/sagas/:orderId/stream', requireRole('operator'), async (req: Request, res: Response) => {
    const query = validateSagaStream(queryOf(req), 'query');
    const orderId = orderIdParam(req);
    const last = lastEventIdOf(req, query);
    if (last !== undefined && !/^[0-9]{1,15}$/.test(last)) {
      throw new ProblemError('invalid-header', 'Last-Event-ID must be a saga version from this stream', [
        { field: 'Last-Event-ID', message: 'must be a non-negative integer' },
      ]);
    }
    const first = await deps.store.load(orderId);
    if (!first) throw new ProblemError('not-found', `no saga for order ${orderId}`);
    let sent = last === undefined ? 0 : Number(last);
    const stream = openStream(req, res);
    let beat = Date.now();
    let saga = first;
    while (!stream.closed()) {
      if (saga.sagaVersion > sent) {
        const rows = await historyAfter(deps, orderId, sent);
        for (const row of rows) {
          if (row.version <= sent) continue;
          stream.send(
            String(row.version),
            'step',
            stepEvent(row, { state: saga.sagaState, status: saga.status, version: saga.sagaVersion }),
          );
          sent = row.version;
        }
      }
      if (Date.now() - beat > HEARTBEAT_MS) {
        res.write(': keep-alive\n\n');
        beat = Date.now();
      }
      await sleep(pollMs);
      if (stream.closed()) break;
      saga = (await deps.store.load(orderId)) ?? saga;
    }
  });

  return router;
}

/** The saga's Events rows after `version`, oldest first (base table, consistent). */
async function historyAfter(deps: ConsoleDeps, orderId: string, version: number): Promise<SagaHistoryEntry[]> {
  const rows: SagaHistoryEntry[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(
      new QueryCommand({
        TableName: deps.tables.events,
        KeyConditionExpression: '#a = :id AND #v > :v',
        ExpressionAttributeNames: { '#a': 'aggregateId', '#v': 'version' },
        ExpressionAttributeValues: { ':id': orderId, ':v': version },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    rows.push(...((page.Items ?? []) as SagaHistoryEntry[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return rows;
}
