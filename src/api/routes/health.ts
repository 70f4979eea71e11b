/** /actuator/health: UP, DEGRADED (Redis down: 200) or DOWN (DynamoDB or SQS down: 503). */
import { Router, type Request, type Response } from 'express';
import { apiRouter } from '../router';
import { emptyQuerySchema } from '../schemas';
import { queryValidator } from '../validation';
import { queryOf } from './orders';

const validateNoQuery = queryValidator<Record<string, never>>(emptyQuerySchema);
import type { HealthReport } from '../health';

export function healthRouter(check: () => Promise<HealthReport>): Router {
  const router = apiRouter();
  router.get('/actuator/health', async (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    const report = await check();
    res.setHeader('Cache-Control', 'no-store');
    res.status(report.status === 'DOWN' ? 503 : 200).json(report);
  });
  return router;
}
