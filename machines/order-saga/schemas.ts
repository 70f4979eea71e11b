/**
 * JSON schemas (draft-07, for ajv) of the saga's events and commands: what may cross the SQS
 * boundary. Kept beside the types they mirror; a test checks that every event type has one.
 */
const id = { type: 'string', minLength: 1, maxLength: 200 } as const;
const text = { type: 'string', maxLength: 500 } as const;
const isoTime = { type: 'string', format: 'date-time' } as const;
/** An amount in the currency's minor units (ISO 4217 exponent): a whole, non-negative number. */
const money = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const currency = { type: 'string', pattern: '^[A-Z]{3}$' } as const;
const items = {
  type: 'array',
  minItems: 1,
  maxItems: 20,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['ticketType', 'quantity'],
    properties: {
      ticketType: { type: 'string', minLength: 1, maxLength: 64 },
      quantity: { type: 'integer', minimum: 1, maximum: 100 },
    },
  },
} as const;

function shape(type: string, properties: Record<string, object> = {}) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['type', ...Object.keys(properties)],
    properties: { type: { const: type }, ...properties },
  };
}

export const sagaEventSchemas = {
  SEATS_RESERVED: shape('SEATS_RESERVED', { reservationId: id, expiresAt: isoTime, amountMinor: money, currency }),
  SEATS_UNAVAILABLE: shape('SEATS_UNAVAILABLE', { reason: text }),
  PAYMENT_CAPTURED: shape('PAYMENT_CAPTURED', { paymentId: id, amountMinor: money, currency }),
  PAYMENT_DECLINED: shape('PAYMENT_DECLINED', { reason: text }),
  HOLD_EXPIRED: shape('HOLD_EXPIRED'),
  CANCEL_REQUESTED: shape('CANCEL_REQUESTED', { by: id, reason: text }),
  OPERATOR_COMPENSATE: shape('OPERATOR_COMPENSATE', { by: id, reason: text }),
  SEATS_RELEASED: shape('SEATS_RELEASED'),
  SEATS_CONFIRMED: shape('SEATS_CONFIRMED'),
  REFUND_ISSUED: shape('REFUND_ISSUED', { refundId: id, amountMinor: money }),
  NOTIFICATION_SENT: shape('NOTIFICATION_SENT', { notificationId: id }),
  HOLD_REMINDER_DUE: shape('HOLD_REMINDER_DUE'),
  HOLD_REMINDER_SENT: shape('HOLD_REMINDER_SENT', { notificationId: id }),
} as const;

export const sagaEventSchema = { oneOf: Object.values(sagaEventSchemas) } as const;

function commandShape(kind: string, properties: Record<string, object> = {}) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['kind', 'commandId', 'orderId', ...Object.keys(properties)],
    properties: { kind: { const: kind }, commandId: id, orderId: id, ...properties },
  };
}

export const sagaCommandSchemas = {
  ReserveSeats: commandShape('ReserveSeats', { eventId: id, items, holdSeconds: { type: 'integer', minimum: 1 } }),
  ChargePayment: commandShape('ChargePayment', { amountMinor: money, currency, paymentToken: id }),
  ScheduleHoldExpiry: commandShape('ScheduleHoldExpiry', { dueAt: isoTime }),
  ConfirmSeats: commandShape('ConfirmSeats', { reservationId: id }),
  ReleaseSeats: commandShape('ReleaseSeats', { reservationId: id, releaseAs: { enum: ['RELEASED', 'EXPIRED'] } }),
  VoidPayment: commandShape('VoidPayment'),
  RefundPayment: commandShape('RefundPayment', { paymentId: id, amountMinor: money, currency }),
  SendNotification: commandShape('SendNotification', {
    customerId: id,
    template: { enum: ['order-completed', 'order-cancelled', 'order-failed'] },
    outcome: { enum: ['completed', 'sold-out', 'declined', 'cancelled', 'expired', 'compensated'] },
  }),
  ScheduleHoldReminder: commandShape('ScheduleHoldReminder', { dueAt: isoTime }),
  SendHoldReminder: commandShape('SendHoldReminder', {
    customerId: id,
    template: { enum: ['hold-reminder'] },
    expiresAt: isoTime,
  }),
} as const;

export const sagaCommandSchema = { oneOf: Object.values(sagaCommandSchemas) } as const;

export const orderItemsSchema = items;
