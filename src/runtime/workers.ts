/**
 * The SQS consumers of one worker process: the saga itself (FIFO, one group per order), the
 * durable timers, and the three participants. Each participant is a handler `command → reply`;
 * the reply has a deterministic id, so a re-delivered command produces the same reply and the saga
 * sees it once. How a reply reaches the saga: `toSaga` below; a due timer: `timerToSaga`.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { OrderSagaEvent, SagaCommand } from '../../machines/order-saga';
import type { Config } from '../config/config';
import { REDRIVE_MAX_RECEIVE_COUNT, type QueueKey } from '../infra/resources';
import { QueueConsumer, type ConsumerObserver } from '../messaging/consumer';
import {
  parseCommandEnvelope,
  parseSagaEventEnvelope,
  parseTimerEnvelope,
  type TimerEnvelope,
} from '../messaging/envelopes';
import { PoisonMessageError } from '../messaging/errors';
import type { QueueUrls } from '../messaging/queues';
import type { Logger } from '../observability/logger';
import { crashPoint } from '../fault-injection/crash-points';
import type { Dispatcher } from './dispatcher';
import { QUEUE_FOR_COMMAND, replyEventId } from './routing';
import type { SagaRuntime } from './saga-runtime';

export type ParticipantHandler = (command: SagaCommand, correlationId: string) => Promise<OrderSagaEvent>;
export type ParticipantKey = Extract<QueueKey, 'inventory' | 'payment' | 'notification'>;
export type ParticipantHandlers = Record<ParticipantKey, ParticipantHandler>;

export interface WorkerDeps {
  sqs: SQSClient;
  queues: QueueUrls;
  config: Pick<
    Config,
    'workerConcurrency' | 'receiveWaitSeconds' | 'maxReceives' | 'messageLeaseSeconds' | 'replyDelivery'
  > &
    Partial<Pick<Config, 'shutdownTimeoutMs'>>;
  logger: Logger;
  runtime: SagaRuntime;
  dispatcher: Dispatcher;
  participants: ParticipantHandlers;
  now?: () => Date;
  /** Metrics: message ages and handler errors. */
  observer?: ConsumerObserver;
}

export type WorkerRole = 'saga' | 'timer' | ParticipantKey;
export const ALL_WORKER_ROLES: WorkerRole[] = ['saga', 'timer', 'inventory', 'payment', 'notification'];

export interface Workers {
  start(): void;
  /** Graceful: stop receiving, finish what is in flight. */
  stop(): Promise<void>;
}

export function createWorkers(deps: WorkerDeps, roles: WorkerRole[] = ALL_WORKER_ROLES): Workers {
  const consumers = roles.map((role) =>
    role === 'saga' ? sagaConsumer(deps) : role === 'timer' ? timerConsumer(deps) : participantConsumer(deps, role),
  );
  return {
    start: () => consumers.forEach((c) => c.start()),
    stop: async () => {
      await Promise.all(consumers.map((c) => c.stop()));
    },
  };
}

function common(deps: WorkerDeps, role: WorkerRole) {
  return {
    name: role,
    sqs: deps.sqs,
    queueUrl: deps.queues[role],
    dlqUrl: deps.queues.dlq,
    concurrency: deps.config.workerConcurrency,
    waitSeconds: deps.config.receiveWaitSeconds,
    maxReceives: deps.config.maxReceives,
    redriveMaxReceives: REDRIVE_MAX_RECEIVE_COUNT,
    leaseSeconds: deps.config.messageLeaseSeconds,
    // A stop waits for in-flight handlers within the process's shutdown budget (SHUTDOWN_TIMEOUT_MS)
    // less 1 s to hand back what was not started, but at least for the open long poll to return.
    stopTimeoutMs: Math.max(
      deps.config.receiveWaitSeconds * 1000,
      deps.config.shutdownTimeoutMs === undefined ? 30_000 : deps.config.shutdownTimeoutMs - 1000,
    ),
    logger: deps.logger,
    observer: deps.observer,
  };
}

function sagaConsumer(deps: WorkerDeps) {
  return new QueueConsumer({
    ...common(deps, 'saga'),
    parse: parseSagaEventEnvelope,
    handle: async (envelope, message) => {
      await deps.runtime.deliver(envelope.orderId, envelope.eventId, envelope.event, message.receiveCount);
    },
  });
}

/** A timer message that is not yet due hops again (SQS delays at most 15 minutes). */
function timerConsumer(deps: WorkerDeps) {
  const now = deps.now ?? (() => new Date());
  return new QueueConsumer({
    ...common(deps, 'timer'),
    parse: parseTimerEnvelope,
    handle: async (timer) => {
      if (Date.parse(timer.dueAt) - now().getTime() > 1000) await deps.dispatcher.sendTimer(timer);
      else await timerToSaga(deps, timer);
    },
  });
}

function participantConsumer(deps: WorkerDeps, role: ParticipantKey) {
  const handler = deps.participants[role];
  return new QueueConsumer({
    ...common(deps, role),
    parse: parseCommandEnvelope,
    handle: async ({ command, correlationId }) => {
      if (QUEUE_FOR_COMMAND[command.kind] !== role) {
        throw new PoisonMessageError(`${command.kind} does not belong on the ${role} queue`);
      }
      const reply = await handler(command, correlationId);
      crashPoint(`after-effect:${command.kind}`);
      await toSaga(deps, command.orderId, replyEventId(command.commandId), reply, correlationId);
    },
  });
}

/**
 * Hands a participant's reply to the saga.
 *
 * `replyDelivery: 'direct'` (the default): every worker process runs the saga runtime, so the reply
 * is applied here and now (`runtime.deliverDirect`), without a hop through the saga's FIFO queue: one
 * send, one receive and one delete fewer per reply, and no long poll in the saga's latency. It is
 * safe because delivery is idempotent by event id and conditional on the saga's version (a
 * concurrent step makes it reload and decide again, as a person's request always has), and because
 * the command that caused it is deleted only after this returns: a worker that dies here leaves the
 * command to be redelivered, the participant answers it again (idempotently), and the reply comes
 * again. The reply goes to the FIFO queue instead, behind what waits there, when events of the saga
 * already wait on it (a machine version this build lacks), and when the direct delivery fails for
 * any reason (a storm of version conflicts, a store fault), so that the saga consumer's retries,
 * version waits and DLQ apply as before. A failure after the step was committed is covered too: the
 * queued reply is then recognised as the last event applied and the outbox is re-sent.
 *
 * `'queue'`: every reply goes through the FIFO queue (one group per order: a saga's events one at a
 * time, in order of arrival).
 */
async function toSaga(
  deps: WorkerDeps,
  orderId: string,
  eventId: string,
  event: OrderSagaEvent,
  correlationId: string,
): Promise<void> {
  if (deps.config.replyDelivery === 'direct') {
    const log = { orderId, eventId, event: event.type, correlationId };
    try {
      if ((await deps.runtime.deliverDirect(orderId, eventId, event)) !== 'queue') return;
      deps.logger.info('reply queued behind the events of its saga that wait on the saga queue', log);
    } catch (error) {
      deps.logger.warn('direct delivery to the saga failed; the reply goes through the saga queue', {
        ...log,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    }
  }
  await deps.dispatcher.sendSagaEvent(orderId, eventId, event, correlationId);
}

/**
 * A due timer's event always goes through the saga's FIFO queue, so that it never overtakes a reply
 * waiting there (a payment captured in time must not lose to the hold's expiry behind its back).
 * With direct replies most timers are one order's hold expiry firing long after the order ended:
 * a final saga ignores it, so it is dropped here, which costs one read instead of a FIFO hop.
 */
async function timerToSaga(deps: WorkerDeps, timer: TimerEnvelope): Promise<void> {
  if (deps.config.replyDelivery === 'direct' && (await deps.runtime.hasEnded(timer.orderId))) {
    deps.logger.debug('timer for an ended saga dropped', { orderId: timer.orderId, event: timer.event.type });
    return;
  }
  await deps.dispatcher.sendSagaEvent(timer.orderId, timer.eventId, timer.event, timer.correlationId);
}
