/**
 * What travels on the queues. Every body is one of these envelopes, validated by ajv on receipt:
 * a body that is not is a poison message and goes to the DLQ with the validation error as reason.
 */
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { sagaCommandSchema, sagaEventSchema, type OrderSagaEvent, type SagaCommand } from '../../machines/order-saga';

/** A command for a participant (or the timer service), sent from a saga's outbox. */
export interface CommandEnvelope {
  type: 'command';
  correlationId: string;
  command: SagaCommand;
}

/** An event for one saga, on the FIFO queue with MessageGroupId = orderId. */
export interface SagaEventEnvelope {
  type: 'saga-event';
  /** Deterministic: a duplicate delivery or a re-sent reply carries the same id. */
  eventId: string;
  orderId: string;
  correlationId: string;
  event: OrderSagaEvent;
}

/** A durable timer hop: re-delayed while dueAt is ahead, then forwarded as a saga event. */
export interface TimerEnvelope {
  type: 'timer';
  orderId: string;
  correlationId: string;
  dueAt: string;
  eventId: string;
  event: OrderSagaEvent;
}

const correlationId = { type: 'string', minLength: 1, maxLength: 200 } as const;
const id = { type: 'string', minLength: 1, maxLength: 200 } as const;

const commandEnvelopeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'correlationId', 'command'],
  properties: { type: { const: 'command' }, correlationId, command: sagaCommandSchema },
};

const sagaEventEnvelopeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'eventId', 'orderId', 'correlationId', 'event'],
  properties: { type: { const: 'saga-event' }, eventId: id, orderId: id, correlationId, event: sagaEventSchema },
};

const timerEnvelopeSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'orderId', 'correlationId', 'dueAt', 'eventId', 'event'],
  properties: {
    type: { const: 'timer' },
    orderId: id,
    correlationId,
    dueAt: { type: 'string', format: 'date-time' },
    eventId: id,
    event: sagaEventSchema,
  },
};

const ajv = new Ajv({ allErrors: false });
addFormats(ajv);

export type Parser<T> = (body: string) => { ok: true; value: T } | { ok: false; reason: string };

function parserFor<T>(schema: object): Parser<T> {
  const validate = ajv.compile(schema);
  return (body) => {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (error) {
      return { ok: false, reason: `body is not JSON: ${(error as Error).message}` };
    }
    if (!validate(value)) {
      const first = validate.errors?.[0];
      return { ok: false, reason: `schema: ${first?.instancePath || '/'} ${first?.message ?? 'invalid'}` };
    }
    return { ok: true, value: value as T };
  };
}

export const parseCommandEnvelope = parserFor<CommandEnvelope>(commandEnvelopeSchema);
export const parseSagaEventEnvelope = parserFor<SagaEventEnvelope>(sagaEventEnvelopeSchema);
export const parseTimerEnvelope = parserFor<TimerEnvelope>(timerEnvelopeSchema);
