/**
 * /machines/order-saga: the machine's definition, to draw as a diagram; /machines/order-saga/versions:
 * every version this build runs (docs/versioning.md), and each one's definition.
 */
import { Router, type Request, type Response } from 'express';
import { apiRouter } from '../router';
import { requireRole } from '../auth/require-role';
import { emptyQuerySchema } from '../schemas';
import { queryValidator } from '../validation';
import { queryOf } from './orders';
import { MACHINE_VERSIONS, ORDER_SAGA_VERSION, orderSagaMachine, START_VERSION } from '../../../machines/order-saga';
import { ProblemError } from '../problem';

const validateNoQuery = queryValidator<Record<string, never>>(emptyQuerySchema);

/** XState's JSON of the machine (guards and actions by name; inline functions become null). */
export function orderSagaDefinition(): unknown {
  return orderSagaMachine.toJSON();
}

/** `startVersion`: the version this process starts new orders on (config ORDER_SAGA_START_VERSION). */
export function machinesRouter(
  definition: () => unknown = orderSagaDefinition,
  startVersion: string = START_VERSION,
): Router {
  const router = apiRouter();
  router.get('/machines/order-saga/versions', requireRole('operator'), (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    res.json({
      startVersion,
      versions: MACHINE_VERSIONS.map((v) => ({
        version: v.version,
        released: v.releasedFingerprint !== null,
        changes: v.changelog?.changes.map((c) => ({ id: c.id, description: c.description })) ?? [],
        links: { definition: `/machines/order-saga/versions/${v.version}` },
      })),
    });
  });
  router.get('/machines/order-saga/versions/:version', requireRole('operator'), (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    const entry = MACHINE_VERSIONS.find((v) => v.version === req.params.version);
    if (!entry)
      throw new ProblemError(
        'not-found',
        `this build has no order-saga machine version ${String(req.params.version)} (it has ${MACHINE_VERSIONS.map((v) => v.version).join(', ')})`,
      );
    res.json({ id: entry.machine.id, version: entry.version, definition: entry.machine.toJSON() });
  });
  let cached: string | undefined;
  router.get('/machines/order-saga', requireRole('operator'), (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    cached ??= JSON.stringify({ id: orderSagaMachine.id, version: ORDER_SAGA_VERSION, definition: definition() });
    res.type('application/json').send(cached);
  });
  return router;
}
