/** /sagas: a saga's state, context, pending commands and history; listings by order status. */
import type { Request, Response } from 'express';
import type { OrderQueries } from '../../store/order-queries';
import type { SagaStore } from '../../store/saga-store';
import { principalOf } from '../../http/auth/principal';
import { routeOf, type Route, type RouteInput } from '../../http/route';
import { ORDER_ID_PARAM } from '../../http/schemas';
import { sagaEtag } from '../operator';
import { DEFAULT_PAGE_SIZE, emptyQuerySchema, listSagasQuerySchema, type ListSagasQuery } from '../schemas';
import { orderSummaryView, sagaView } from '../views';
import { visibleSaga } from './orders';

export interface SagasRouteDeps {
  store: SagaStore;
  orders: OrderQueries;
}

/** GET /sagas: sagas in one order status (the status index: eventually consistent). */
async function listSagas(
  deps: SagasRouteDeps,
  { query }: RouteInput<ListSagasQuery>,
  _req: Request,
  res: Response,
): Promise<void> {
  const page = await deps.orders.listByStatus(query.status, query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
  res.json({
    items: page.items.map((s) => ({
      ...orderSummaryView(s),
      links: { saga: `/sagas/${s.orderId}`, order: `/orders/${s.orderId}` },
    })),
    nextCursor: page.nextCursor,
  });
}

/** GET /sagas/:orderId: one saga and its history (ETag = its version). */
async function getSaga(deps: SagasRouteDeps, { params }: RouteInput, _req: Request, res: Response): Promise<void> {
  const { orderId } = params;
  // The snapshot first, then the history: the history is never older than the snapshot.
  const saga = visibleSaga(principalOf(res), await deps.store.load(orderId), orderId, 'saga for order');
  const history = await deps.store.history(orderId);
  res.setHeader('ETag', sagaEtag(saga.sagaVersion));
  res.json(sagaView(saga, history));
}

const route = routeOf<SagasRouteDeps>();

/** The /sagas routes (the saga streams are the console's: src/console/streams.ts). */
export const SAGA_ROUTES: ReadonlyArray<Route<SagasRouteDeps>> = [
  route<ListSagasQuery>({
    method: 'get',
    path: '/sagas',
    roles: ['operator'],
    summary: 'Sagas in one order status',
    tag: 'sagas',
    query: listSagasQuerySchema,
    ok: { 200: 'json' },
    problems: [400],
    handle: listSagas,
  }),
  route({
    method: 'get',
    path: '/sagas/:orderId',
    roles: ['customer', 'operator'],
    summary: 'A saga: state, context, outbox, history (ETag = version)',
    tag: 'sagas',
    query: emptyQuerySchema,
    params: { orderId: ORDER_ID_PARAM },
    ok: { 200: { json: 'Saga' } },
    problems: [400, 404],
    handle: getSaga,
  }),
];
