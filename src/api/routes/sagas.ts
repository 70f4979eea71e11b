/** /sagas: a saga's state, context, pending commands and history; listings by order status. */
import { Router, type Request, type Response } from 'express';
import { apiRouter } from '../router';
import type { OrderQueries } from '../../store/order-queries';
import type { SagaStore } from '../../store/saga-store';
import { principalOf } from '../auth/principal';
import { requireRole } from '../auth/require-role';
import { sagaEtag } from '../operator';
import { DEFAULT_PAGE_SIZE, emptyQuerySchema, listSagasQuerySchema, type ListSagasQuery } from '../schemas';
import { queryValidator } from '../validation';
import { orderSummaryView, sagaView } from '../views';
import { orderIdParam, queryOf, visibleSaga } from './orders';

export interface SagasRouteDeps {
  store: SagaStore;
  orders: OrderQueries;
}

const validateListQuery = queryValidator<ListSagasQuery>(listSagasQuerySchema);
const validateNoQuery = queryValidator<Record<string, never>>(emptyQuerySchema);

export function sagasRouter(deps: SagasRouteDeps): Router {
  const router = apiRouter();

  router.get('/sagas', requireRole('operator'), async (req: Request, res: Response) => {
    const query = validateListQuery(queryOf(req), 'query');
    const page = await deps.orders.listByStatus(query.status, query.limit ?? DEFAULT_PAGE_SIZE, query.cursor);
    res.json({
      items: page.items.map((s) => ({
        ...orderSummaryView(s),
        links: { saga: `/sagas/${s.orderId}`, order: `/orders/${s.orderId}` },
      })),
      nextCursor: page.nextCursor,
    });
  });

  router.get('/sagas/:orderId', requireRole('customer', 'operator'), async (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    const orderId = orderIdParam(req);
    // The snapshot first, then the history: the history is never older than the snapshot.
    const saga = visibleSaga(principalOf(res), await deps.store.load(orderId), orderId, 'saga for order');
    const history = await deps.store.history(orderId);
    res.setHeader('ETag', sagaEtag(saga.sagaVersion));
    res.json(sagaView(saga, history));
  });

  return router;
}
