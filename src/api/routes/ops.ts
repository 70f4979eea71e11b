/**
 * /ops: for operators. An overview (open and stuck sagas, queue depths, dead letters), stuck sagas
 * (list, retry, compensate) and the dead-letter queues (look, redrive, delete). Reading needs the
 * operator role, acting needs operator-repair. Every action names its operator (the token's
 * verified sub, never a header) and its reason; a saga action sent with If-Match: "<version>" is
 * done only at that version (else 412, nothing done); a saga
 * action is recorded in the saga's Events rows, a dead-letter action in the log (and on the saga
 * its message is about, when there is one).
 */
import type { Request, Response } from 'express';
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
import { actorOf, principalOf } from '../../http/auth/principal';
import { ctxOf } from '../../http/context';
import { ProblemError } from '../../http/problem';
import {
  DEFAULT_DLQ_PAGE_SIZE,
  DEFAULT_STUCK_PAGE_SIZE,
  emptyQuerySchema,
  limitQuerySchema,
  MESSAGE_ID_PATTERN,
  operatorReasonSchema,
  optionalReasonSchema,
  redriveSchema,
  type LimitQuery,
  type OperatorReasonBody,
  type OptionalReason,
  type RedriveBody,
} from '../schemas';
import { routeOf, type Route, type RouteInput } from '../../http/route';
import { ORDER_ID_PARAM } from '../../http/schemas';
import { findRecordedAction, operatorActionEventId, type OperatorAction } from '../../ops/operator-replay';
import { idempotencyKeyOf, keyReused } from './orders';

export interface OpsDeps {
  stuck: StuckSagas;
  deadLetters: DeadLetterOps;
  queueDepths: () => Promise<QueueDepths>;
}

export interface OpsRouteDeps extends OpsDeps {
  runtime: SagaRuntime;
  store: SagaStore;
}

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
  headers: RouteInput['headers'],
  deps: OpsRouteDeps,
  action: OperatorAction,
  orderId: string,
  by: string,
  reason: string,
) {
  const key = idempotencyKeyOf(headers);
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

type Handler<Q = Record<string, never>, B = undefined> = (
  deps: OpsRouteDeps,
  input: RouteInput<Q, B>,
  req: Request,
  res: Response,
) => Promise<void>;

// One glance for a person or a monitor: anything non-zero under stuck or deadLetters needs someone.
const overview: Handler = async (deps, _input, _req, res) => {
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
};

// Which sagas wait on which machine version, and what this build runs.
const machineVersionWaits: Handler<LimitQuery> = async (deps, { query }, _req, res) => {
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
};

const stuckSagas: Handler<LimitQuery> = async (deps, { query }, _req, res) => {
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
};

const retry: Handler<Record<string, never>, OperatorReasonBody> = async (deps, input, req, res) => {
  const ctx = ctxOf(res);
  const { orderId } = input.params;
  const by = operatorOf(res);
  const { reason } = input.body;
  const operator: OperatorRequest = { by, reason, expectedVersion: expectedVersionOf(input.headers) };
  const keyed = await keyedAction(input.headers, deps, 'retry', orderId, by, reason);
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
};

const compensate: Handler<Record<string, never>, OperatorReasonBody> = async (deps, input, req, res) => {
  const ctx = ctxOf(res);
  const { orderId } = input.params;
  const by = operatorOf(res);
  const { reason } = input.body;
  const keyed = await keyedAction(input.headers, deps, 'compensate', orderId, by, reason);
  if (keyed.replay) {
    const { orderId: id, state, status, version } = keyed.replay;
    res.setHeader('Idempotent-Replayed', 'true');
    res
      .status(202)
      .json({ orderId: id, state, status, version, compensationRequested: true, links: sagaLinks(orderId) });
    return;
  }
  const saga = await sagaAction(orderId, () =>
    compensateSaga(deps, orderId, { by, reason, expectedVersion: expectedVersionOf(input.headers) }, keyed.eventId),
  );
  ctx.log.info('operator compensated a saga', {
    orderId,
    operator: by,
    reason,
    state: saga.sagaState,
    sagaCorrelationId: saga.correlationId,
  });
  res.status(202).json({ ...sagaSummary(saga), compensationRequested: true, links: sagaLinks(orderId) });
};

const deadLetters: Handler<LimitQuery> = async (deps, { query }, _req, res) => {
  const messages = await deps.deadLetters.list(query.limit ?? DEFAULT_DLQ_PAGE_SIZE);
  res.setHeader('Cache-Control', 'no-store');
  res.json({ messages });
};

const redrive: Handler<Record<string, never>, RedriveBody> = async (deps, { body }, _req, res) => {
  const by = operatorOf(res);
  const result = await deps.deadLetters.redrive(body.ids, { by, reason: body.reason });
  res.json(result);
};

// DELETE /ops/dlq/redrive is not a dead letter named "redrive": the route table leaves the
// literal path to its own route (src/http/route.ts mountRoutes), so it is a 405.
const deleteDeadLetter: Handler<OptionalReason, OptionalReason> = async (deps, input, _req, res) => {
  const { query, body } = input;
  const { id } = input.params;
  const by = operatorOf(res);
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
};

const route = routeOf<OpsRouteDeps>();

/** The /ops routes: served when the service has its operator deps. Reading needs operator, acting operator-repair. */
export const OPS_ROUTES: ReadonlyArray<Route<OpsRouteDeps>> = [
  route({
    method: 'get',
    path: '/ops/overview',
    roles: ['operator'],
    summary: 'Open and stuck sagas, dead letters, queue depths',
    tag: 'ops',
    query: emptyQuerySchema,
    ok: { 200: 'json' },
    problems: [400],
    handle: overview,
  }),
  route<LimitQuery>({
    method: 'get',
    path: '/ops/sagas/machine-versions',
    roles: ['operator'],
    summary: 'Open sagas waiting for a build that knows their machine version',
    tag: 'ops',
    query: limitQuerySchema,
    ok: { 200: 'json' },
    problems: [400],
    handle: machineVersionWaits,
  }),
  route<LimitQuery>({
    method: 'get',
    path: '/ops/sagas/stuck',
    roles: ['operator'],
    summary: 'Stuck sagas, most stuck first',
    tag: 'ops',
    query: limitQuerySchema,
    ok: { 200: 'json' },
    problems: [400],
    handle: stuckSagas,
  }),
  route<Record<string, never>, OperatorReasonBody>({
    method: 'post',
    path: '/ops/sagas/:orderId/retry',
    roles: ['operator-repair'],
    summary: 'Re-send the commands a saga waits on',
    tag: 'ops',
    query: emptyQuerySchema,
    body: operatorReasonSchema,
    params: { orderId: ORDER_ID_PARAM },
    // Idempotency-Key: a repeat gets the first answer; the key reused for another body, 422.
    headers: ['If-Match', 'Idempotency-Key'],
    ok: { 202: 'json' },
    problems: [400, 404, 409, 412, 422],
    handle: retry,
  }),
  route<Record<string, never>, OperatorReasonBody>({
    method: 'post',
    path: '/ops/sagas/:orderId/compensate',
    roles: ['operator-repair'],
    summary: 'Force the compensation path',
    tag: 'ops',
    query: emptyQuerySchema,
    body: operatorReasonSchema,
    params: { orderId: ORDER_ID_PARAM },
    // Idempotency-Key: a repeat gets the first answer; the key reused for another body, 422.
    headers: ['If-Match', 'Idempotency-Key'],
    ok: { 202: 'json' },
    problems: [400, 404, 409, 412, 422],
    handle: compensate,
  }),
  route<LimitQuery>({
    method: 'get',
    path: '/ops/dlq',
    roles: ['operator'],
    summary: 'Dead letters with their reasons',
    tag: 'ops',
    query: limitQuerySchema,
    ok: { 200: 'json' },
    problems: [400],
    handle: deadLetters,
  }),
  route<Record<string, never>, RedriveBody>({
    method: 'post',
    path: '/ops/dlq/redrive',
    roles: ['operator-repair'],
    summary: 'Send dead letters back to their source queues',
    tag: 'ops',
    query: emptyQuerySchema,
    body: redriveSchema,
    ok: { 200: 'json' },
    problems: [400],
    handle: redrive,
  }),
  route<OptionalReason, OptionalReason>({
    method: 'delete',
    path: '/ops/dlq/:id',
    roles: ['operator-repair'],
    summary: 'Delete a dead letter (reason in the query or the body)',
    tag: 'ops',
    query: optionalReasonSchema,
    body: optionalReasonSchema,
    bodyOptional: true,
    params: { id: { pattern: MESSAGE_ID_PATTERN, expected: 'an SQS message id' } },
    ok: { 200: 'json' },
    problems: [400, 404],
    handle: deleteDeadLetter,
  }),
];
