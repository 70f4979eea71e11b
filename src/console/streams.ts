/**
 * Live sagas over Server-Sent Events (WHATWG HTML §9.2).
 *
 * GET /sagas/:orderId/stream: one `step` event per history row, `id:` = the saga version it
 * made. A client that reconnects with Last-Event-ID: N (or ?lastEventId=N) gets every row after
 * N, then the live ones; a row is sent once per connection, in version order, so nothing is
 * missed or repeated.
 *
 * GET /sagas/stream: one `saga` event per saga step read from the TicketOrders stream (DynamoDB
 * Streams, NEW_IMAGE: src/store/order-stream.ts; orderId, version, state, status, updatedAt as the
 * step left the order item), `id:` = `<updatedAt>~<orderId>`, resumable the same way: from the
 * process's tail buffer when it holds the id, else from a bounded listing (src/console/live/list-watch.ts).
 * The order item is a projection that may lag its commit: this stream says "the list changed", the
 * list page is the truth. A step shows about 0.5–1 s after it lands on the item.
 *
 * Workers are other processes, so the API learns of a saga's step by polling the saga's version
 * (GET /sagas/:orderId/stream). The poll is shared (src/console/live/): at the default poll of 1 s,
 * each distinct saga watched costs 1 DynamoDB request/s (a strongly consistent GetItem and the
 * latest Events row) plus one Query per step taken, however many pages show it. All open list
 * pages of a process together cost one GetRecords per stream shard per 0.5–1 s (DynamoDB Streams
 * read requests). STREAM_POLL_MS trades freshness for cost.
 *
 * Every stream is a live connection (src/console/live/live-connections.ts): it counts against the
 * caller's STREAM_MAX_PER_CALLER (429 past it), and ends with `event: token-expired` when the
 * caller's token expires and with `event: shutdown` when the process stops.
 */
import type { Request, Response, Router } from 'express';
import type { SagaHistoryEntry, StoredSaga } from '../store/saga-store';
import { requireRole } from '../http/auth/require-role';
import { principalOf } from '../http/auth/principal';
import { ProblemError } from '../http/problem';
import { routeOf, type Route, type RouteInput } from '../http/route';
import { ORDER_ID_PARAM, UUID_REGEX } from '../http/schemas';
import { pathParam } from '../http/validation';
import { listStreamQuerySchema, sagaStreamQuerySchema, type StreamQuery } from './schemas';
import { openSse } from './live/sse';
import { isPendingUpgrade } from './live/upgrade';
import type { ConsoleRoom } from './deps';

function lastEventIdOf(headers: RouteInput['headers'], query: StreamQuery): string | undefined {
  return headers['Last-Event-ID'] ?? query.lastEventId;
}

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

/**
 * The XState inspector feed over WebSocket (src/console/inspector-feed.ts): the upgrade request
 * reached here through the whole chain (token, request limits: src/console/live/upgrade.ts).
 * Middleware rather than a route: it is not an HTTP operation (a plain GET falls through to 404,
 * and the OpenAPI document, which lists HTTP operations, names it in its description).
 */
export function mountInspectorFeed(router: Router, room: ConsoleRoom): void {
  router.use(
    '/sagas/:orderId/inspect',
    // One spelling, as the HTTP routes (src/http/router.ts): no trailing slash, nothing after.
    (req, _res, next) =>
      next(isPendingUpgrade(req) && /\/inspect$/.test(req.originalUrl.split('?')[0]) ? undefined : 'router'),
    requireRole('operator'),
    (req: Request, res: Response) =>
      room.inspector.accept(
        req,
        res,
        principalOf(res),
        pathParam(req.params.orderId, 'orderId', UUID_REGEX, 'a UUID').toLowerCase(),
      ),
  );
}

/** GET /sagas/stream: every saga step read from the TicketOrders stream. */
async function listStream(
  { live }: ConsoleRoom,
  { query, headers }: RouteInput<StreamQuery>,
  req: Request,
  res: Response,
): Promise<void> {
  const last = lastEventIdOf(headers, query);
  const parsed = last ? /^(\d{4}-\d{2}-\d{2}T[0-9:.]+Z)~(.{1,200})$/.exec(last) : null;
  if (last && !parsed)
    throw new ProblemError('invalid-header', 'Last-Event-ID must be <updatedAt>~<orderId> from this stream', [
      { field: 'Last-Event-ID', message: 'not an id of this stream' },
    ]);
  const stream = openSse(req, res, live.connections);
  const stop = await live.list.follow(parsed ? { u: parsed[1], o: parsed[2] } : undefined, (steps) => {
    for (const { mark, saga } of steps) {
      if (saga)
        stream.send(`${mark.updatedAt}~${mark.orderId}`, 'saga', {
          orderId: mark.orderId,
          version: saga.sagaVersion,
          state: saga.sagaState,
          status: saga.status,
          updatedAt: saga.updatedAt,
        });
    }
  });
  stream.onClose(stop);
  await stream.done;
}

/** GET /sagas/:orderId/stream: one `step` per saga version. */
async function sagaStream(
  { deps, live }: ConsoleRoom,
  { query, params, headers }: RouteInput<StreamQuery>,
  req: Request,
  res: Response,
): Promise<void> {
  const { orderId } = params;
  const last = lastEventIdOf(headers, query);
  if (last !== undefined && !/^[0-9]{1,15}$/.test(last)) {
    throw new ProblemError('invalid-header', 'Last-Event-ID must be a saga version from this stream', [
      { field: 'Last-Event-ID', message: 'must be a non-negative integer' },
    ]);
  }
  // One read at connect for the 404; then the saga's shared watch.
  const first = await deps.store.load(orderId);
  if (!first) throw new ProblemError('not-found', `no saga for order ${orderId}`);
  const stream = openSse(req, res, live.connections);
  let sent = last === undefined ? 0 : Number(last);
  let sending: Promise<void> = Promise.resolve();
  // Steps are sent in order, once: one send pass at a time, each from the last version sent.
  const sendNew = (saga: StoredSaga) =>
    (sending = sending
      .then(async () => {
        if (stream.closed() || saga.sagaVersion <= sent) return;
        for (const row of await watch.rowsAfter(sent)) {
          if (row.version <= sent) continue;
          const now = { state: saga.sagaState, status: saga.status, version: saga.sagaVersion };
          stream.send(String(row.version), 'step', stepEvent(row, now));
          sent = row.version;
        }
      })
      .catch((error: unknown) => {
        deps.logger.warn('saga stream: send failed', { orderId, error: String(error) });
      }));
  const watch = live.sagas.watch(orderId, (saga) => {
    if (saga) void sendNew(saga);
  });
  stream.onClose(() => watch.close());
  await stream.done;
}

const route = routeOf<ConsoleRoom>();

/** The saga streams (Server-Sent Events). */
export const STREAM_ROUTES: ReadonlyArray<Route<ConsoleRoom>> = [
  route<StreamQuery>({
    method: 'get',
    path: '/sagas/stream',
    roles: ['operator'],
    summary: 'Server-Sent Events: every saga step, read from the TicketOrders stream',
    tag: 'sagas',
    query: listStreamQuerySchema,
    headers: ['Last-Event-ID'],
    ok: { 200: 'sse' },
    problems: [400],
    handle: listStream,
  }),
  route<StreamQuery>({
    method: 'get',
    path: '/sagas/:orderId/stream',
    roles: ['operator'],
    summary: 'Server-Sent Events: one `step` per saga version (id = version)',
    tag: 'sagas',
    query: sagaStreamQuerySchema,
    params: { orderId: ORDER_ID_PARAM },
    headers: ['Last-Event-ID'],
    ok: { 200: 'sse' },
    problems: [400, 404],
    handle: sagaStream,
  }),
];
