/** /actuator/health: UP, DEGRADED (Redis down: 200) or DOWN (DynamoDB or SQS down: 503). */
import { Router, type Request, type Response } from 'express';
import type { HealthReport } from '../health';

export function healthRouter(check: () => Promise<HealthReport>): Router {
  const router = Router();
  router.get('/actuator/health', async (_req: Request, res: Response) => {
    const report = await check();
    res.setHeader('Cache-Control', 'no-store');
    res.status(report.status === 'DOWN' ? 503 : 200).json(report);
  });
  return router;
}
