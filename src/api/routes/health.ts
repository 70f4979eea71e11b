/** /actuator/health: UP, DEGRADED (Redis down: 200) or DOWN (DynamoDB or SQS down: 503). */
import type { Request, Response } from 'express';
import { routeOf, type Route } from '../../http/route';
import { emptyQuerySchema } from '../schemas';
import type { HealthReport } from '../health';

/** createHealthCheck(clients, redis, names). */
export type HealthCheck = () => Promise<HealthReport>;

const route = routeOf<HealthCheck>();

export const HEALTH_ROUTES: ReadonlyArray<Route<HealthCheck>> = [
  route({
    method: 'get',
    path: '/actuator/health',
    // Public: load balancers and orchestrators probe it without credentials; it names no customer data.
    roles: [],
    summary: 'Health: UP, DEGRADED or DOWN (503)',
    tag: 'meta',
    query: emptyQuerySchema,
    ok: { 200: { json: 'Health' }, 503: { json: 'HealthDown' } },
    problems: [400],
    handle: async (check, _input, _req: Request, res: Response) => {
      const report = await check();
      res.setHeader('Cache-Control', 'no-store');
      res.status(report.status === 'DOWN' ? 503 : 200).json(report);
    },
  }),
];
