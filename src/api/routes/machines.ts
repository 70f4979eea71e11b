/** /machines/order-saga: the machine's definition, to draw as a diagram. */
import { Router, type Request, type Response } from 'express';
import { emptyQuerySchema } from '../schemas';
import { queryValidator } from '../validation';
import { queryOf } from './orders';

const validateNoQuery = queryValidator<Record<string, never>>(emptyQuerySchema);
import { ORDER_SAGA_VERSION, orderSagaMachine } from '../../../machines/order-saga';

/** XState's JSON of the machine (guards and actions by name; inline functions become null). */
export function orderSagaDefinition(): unknown {
  return orderSagaMachine.toJSON();
}

export function machinesRouter(definition: () => unknown = orderSagaDefinition): Router {
  const router = Router();
  let cached: string | undefined;
  router.get('/machines/order-saga', (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    cached ??= JSON.stringify({ id: orderSagaMachine.id, version: ORDER_SAGA_VERSION, definition: definition() });
    res.type('application/json').send(cached);
  });
  return router;
}
