/**
 * /ops: for operators. An overview (open and stuck sagas, queue depths, dead letters), stuck sagas
 * (list, retry, compensate) and the dead-letter queues (look, redrive, delete). Reading needs the
 * operator role, acting needs operator-repair. Every action names its operator (the token's
 * verified sub, never a header) and its reason; a saga action sent with If-Match: "<version>" is
 * done only at that version (else 412, nothing done); a saga
 * action is recorded in the saga's Events rows, a dead-letter action in the log (and on the saga
 * its message is about, when there is one).
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { apiRouter } from '../router';
import type { DeadLetterOps } from '../../ops/dead-letter-ops';
import type { QueueDepths } from '../../ops/queue-depths';
import {
  compensateSaga,
  OperatorActionRefusedError,
  retrySaga,
  type OperatorRequest,
  type StuckSagas,
} from '../../ops/stuck-sagas';
import { summarizeVersionWaits, versionWaits } from '../../ops/version-waits';
import { knownMachineVersions } from '../../../machines/order-saga';
import { StaleSagaVersionError, UnknownSagaError, type SagaRuntime } from '../../runtime/saga-runtime';
import { expectedVersionOf } from '../operator';
import type { SagaStore, StoredSaga } from '../../store/saga-store';
import { actorOf, principalOf } from '../auth/principal';
import { requireRole } from '../auth/require-role';
import { ctxOf } from '../context';
import { ProblemError } from '../problem';
import {
  DEFAULT_DLQ_PAGE_SIZE,
  DEFAULT_STUCK_PAGE_SIZE,
  emptyQuerySchema,
  limitQuerySchema,
  MESSAGE_ID_REGEX,
  operatorReasonSchema,
  optionalReasonSchema,
  redriveSchema,
  type LimitQuery,
  type OperatorReasonBody,
  type OptionalReason,
  type RedriveBody,
} from '../schemas';
import { bodyValidator, pathParam, queryValidator } from '../validation';
import { findRecordedAction, operatorActionEventId, type OperatorAction } from '../../ops/operator-replay';
import { idempotencyKeyOf, keyReused, orderIdParam, queryOf } from './orders';

export interface OpsDeps {
  stuck: StuckSagas;
  deadLetters: DeadLetterOps;
  queueDepths: () => Promise<QueueDepths>;
}

export interface OpsRouteDeps extends OpsDeps {
  runtime: SagaRuntime;
  store: SagaStore;
}

const validateLimit = queryValidator<LimitQuery>(limitQuerySchema);
const validateNoQuery = queryValidator<Record<string, never>>(emptyQuerySchema);
const validateReason = bodyValidator<OperatorReasonBody>(operatorReasonSchema);
const validateRedrive = bodyValidator<RedriveBody>(redriveSchema);
const validateOptionalReasonQuery = queryValidator<OptionalReason>(optionalReasonSchema);
const validateOptionalReasonBody = bodyValidator<OptionalReason>(optionalReasonSchema);

/** The operator behind an action: the verified token subject. Returns `operator:<sub>`. */
function operatorOf(res: Response): string {
  return actorOf(principalOf(res), 'operator');
}

function sagaLinks(orderId: string) {
  return { saga: `/sagas/${orderId}`, order: `/orders/${orderId}` };
}

function sagaSummary(saga: StoredSaga) {
  return { orderId: saga.orderId, state: saga.sagaState, status: saga.status, version: saga.sagaVersion };
}

/**
 * With an Idempotency-Key: the action's deterministic event id, and the answer to send if a request
 * with the same key already acted (202, `Idempotent-Replayed: true`; 422 for another reason).
 */
async function keyedAction(
  req: Request,
  deps: OpsRouteDeps,
  action: OperatorAction,
  orderId: string,
  by: string,
  reason: string,
) {
  const key = idempotencyKeyOf(req);
  if (key === undefined) return { eventId: undefined, replay: undefined };
  const eventId = operatorActionEventId(by, action, orderId, key);
  const replay = await findRecordedAction(deps.store, orderId, eventId);
  if (replay && replay.reason !== reason) throw keyReused();
  return { eventId, replay };
}

/** Maps the saga actions' errors to problems. */
async function sagaAction<T>(orderId: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof UnknownSagaError) throw new ProblemError('not-found', `no saga for order ${orderId}`);
    if (error instanceof StaleSagaVersionError) {
      throw new ProblemError(
        'precondition-failed',
        `${error.message}; nothing was done. Reload the saga and decide again`,
        undefined,
        {
          orderId,
          expectedVersion: error.expected,
          currentVersion: error.current,
        },
      );
    }
    if (error instanceof OperatorActionRefusedError) {
      throw new ProblemError('saga-state-conflict', error.detail, undefined, {
        orderId,
        sagaState: error.state,
        orderStatus: error.status,
      });
    }
    throw error;
  }
}

export function opsRouter(deps: OpsRouteDeps): Router {
  const router = apiRouter();

  // One glance for a person or a monitor: anything non-zero under stuck or deadLetters needs someone.
  router.get('/ops/overview', requireRole('operator'), async (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    const [scan, queues] = await Promise.all([deps.stuck.scanOpen(), deps.queueDepths()]);
    const listing = deps.stuck.judge(scan, 1);
    const waits = summarizeVersionWaits(versionWaits(scan.sagas));
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      checkedAt: listing.checkedAt,
      sagas: { open: listing.scanned, stuck: listing.total, truncated: listing.truncated },
      deadLetters: queues.dlq.visible + queues.dlq.inFlight + queues.dlqFifo.visible + queues.dlqFifo.inFlight,
      // Sagas whose events wait for a build that knows their machine version (a rollout, a rollback).
      unknownMachineVersion: { ...waits, problem: waits.sagas > 0 ? 'unknown machine version' : null },
      queues,
      links: { stuck: '/ops/sagas/stuck', deadLetters: '/ops/dlq', machineVersions: '/ops/sagas/machine-versions' },
    });
  });

  // Which sagas wait on which machine version, and what this build runs.
  router.get('/ops/sagas/machine-versions', requireRole('operator'), async (req: Request, res: Response) => {
    const query = validateLimit(queryOf(req), 'query');
    const scan = await deps.stuck.scanOpen();
    const waiting = versionWaits(scan.sagas);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      knownVersions: knownMachineVersions(),
      ...summarizeVersionWaits(waiting),
      items: waiting
        .slice(0, query.limit ?? DEFAULT_STUCK_PAGE_SIZE)
        .map((w) => ({ ...w, problem: 'unknown machine version', links: sagaLinks(w.orderId) })),
      scanned: scan.scanned,
      truncated: scan.truncated,
      checkedAt: scan.checkedAt.toISOString(),
    });
  });

  router.get('/ops/sagas/stuck', requireRole('operator'), async (req: Request, res: Response) => {
    const query = validateLimit(queryOf(req), 'query');
    const listing = await deps.stuck.list(query.limit ?? DEFAULT_STUCK_PAGE_SIZE);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      items: listing.items.map((s) => ({
        ...s,
        links: {
          ...sagaLinks(s.orderId),
          retry: `/ops/sagas/${s.orderId}/retry`,
          compensate: `/ops/sagas/${s.orderId}/compensate`,
        },
      })),
      scanned: listing.scanned,
      total: listing.total,
      truncated: listing.truncated,
      checkedAt: listing.checkedAt,
    });
  });

  router.post('/ops/sagas/:orderId/retry', requireRole('operator-repair'), async (req: Request, res: Response) => {
    const ctx = ctxOf(res);
    validateNoQuery(queryOf(req), 'query');
    const orderId = orderIdParam(req);
    const by = operatorOf(res);
    const { reason } = validateReason(req.body, 'body');
    const operator: OperatorRequest = { by, reason, expectedVersion: expectedVersionOf(req) };
    const keyed = await keyedAction(req, deps, 'retry', orderId, by, reason);
    if (keyed.replay) {
      const { orderId: id, state, status, version, payload } = keyed.replay;
      res.setHeader('Idempotent-Replayed', 'true');
      res
        .status(202)
        .json({ orderId: id, state, status, version, resent: payload.resent ?? [], links: sagaLinks(orderId) });
      return;
    }
    const { saga, resent } = await sagaAction(orderId, () => retrySaga(deps, orderId, operator, keyed.eventId));
    ctx.log.info('operator retried a saga', {
      orderId,
      operator: by,
      reason,
      state: saga.sagaState,
      resent,
      sagaCorrelationId: saga.correlationId,
    });
    res.status(202).json({ ...sagaSummary(saga), resent, links: sagaLinks(orderId) });
  });

  router.post('/ops/sagas/:orderId/compensate', requireRole('operator-repair'), async (req: Request, res: Response) => {
    const ctx = ctxOf(res);
    validateNoQuery(queryOf(req), 'query');
    const orderId = orderIdParam(req);
    const by = operatorOf(res);
    const { reason } = validateReason(req.body, 'body');
    const keyed = await keyedAction(req, deps, 'compensate', orderId, by, reason);
    if (keyed.replay) {
      const { orderId: id, state, status, version } = keyed.replay;
      res.setHeader('Idempotent-Replayed', 'true');
      res
        .status(202)
        .json({ orderId: id, state, status, version, compensationRequested: true, links: sagaLinks(orderId) });
      return;
    }
    const saga = await sagaAction(orderId, () =>
      compensateSaga(deps, orderId, { by, reason, expectedVersion: expectedVersionOf(req) }, keyed.eventId),
    );
    ctx.log.info('operator compensated a saga', {
      orderId,
      operator: by,
      reason,
      state: saga.sagaState,
      sagaCorrelationId: saga.correlationId,
    });
    res.status(202).json({ ...sagaSummary(saga), compensationRequested: true, links: sagaLinks(orderId) });
  });

  router.get('/ops/dlq', requireRole('operator'), async (req: Request, res: Response) => {
    const query = validateLimit(queryOf(req), 'query');
    const messages = await deps.deadLetters.list(query.limit ?? DEFAULT_DLQ_PAGE_SIZE);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ messages });
  });

  router.post('/ops/dlq/redrive', requireRole('operator-repair'), async (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    const by = operatorOf(res);
    const body = validateRedrive(req.body, 'body');
    const result = await deps.deadLetters.redrive(body.ids, { by, reason: body.reason });
    res.json(result);
  });

  router.delete(
    '/ops/dlq/:id',
    requireRole('operator-repair'),
    async (req: Request, res: Response, next: NextFunction) => {
      if (req.params.id === 'redrive') {
        next(); // a DELETE of the redrive action: 405
        return;
      }
      const query = validateOptionalReasonQuery(queryOf(req), 'query');
      const id = pathParam(req.params.id, 'id', MESSAGE_ID_REGEX, 'an SQS message id');
      const by = operatorOf(res);
      const body = req.body === undefined ? {} : validateOptionalReasonBody(req.body, 'body');
      if (query.reason !== undefined && body.reason !== undefined) {
        throw new ProblemError('validation', 'give the reason once: in the query or in the body', [
          { field: 'reason', message: 'given twice' },
        ]);
      }
      const reason = body.reason ?? query.reason;
      if (reason === undefined) {
        throw new ProblemError('validation', 'a reason is required (query ?reason= or body {"reason": …})', [
          { field: 'reason', message: 'is required' },
        ]);
      }
      const deleted = await deps.deadLetters.delete(id, { by, reason });
      if (!deleted) throw new ProblemError('not-found', `no dead letter ${id} on ticket-dlq or ticket-dlq.fifo`);
      res.json({ deleted: true, id: deleted.id, queue: deleted.queue, message: deleted });
    },
  );

  return router;
}
