/** The request schemas: every body and query the API accepts, closed to unknown fields. */
import type { TicketTypeBody } from './amounts';
import { orderItemsSchema, type OrderItem, type OrderStatus } from '../../machines/order-saga';
import { MAX_PAGE_SIZE } from '../store/order-queries';

import { ID_PATTERN, ORDER_STATUSES } from '../http/schemas';

export { emptyQuerySchema, ID_PATTERN, ID_REGEX, ORDER_STATUSES, UUID_REGEX } from '../http/schemas';
/** Idempotency-Key: 1-128 visible ASCII characters. */
export const IDEMPOTENCY_KEY_REGEX = /^[\x21-\x7E]{1,128}$/;

const id = { type: 'string', pattern: ID_PATTERN } as const;
const limit = { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE } as const;
const cursor = { type: 'string', minLength: 1, maxLength: 2048, pattern: '^[A-Za-z0-9_-]+$' } as const;

export interface PlaceOrderBody {
  /** Optional: the caller's token `sub` is the customer; when given it must equal it. */
  customerId?: string;
  eventId: string;
  items: OrderItem[];
  paymentToken: string;
}

export const placeOrderSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['eventId', 'items', 'paymentToken'],
  properties: {
    customerId: id,
    eventId: id,
    items: orderItemsSchema,
    paymentToken: { type: 'string', pattern: '^[\\x21-\\x7E]{1,200}$' },
  },
} as const;

export interface CancelOrderBody {
  reason?: string;
}

export const cancelOrderSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } },
} as const;

export interface ListOrdersQuery {
  /** A customer lists its own orders (default: its sub); an operator names the customer. */
  customerId?: string;
  limit?: number;
  cursor?: string;
}

export const listOrdersQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { customerId: id, limit, cursor },
} as const;

export interface ListSagasQuery {
  status: OrderStatus;
  limit?: number;
  cursor?: string;
}

export const listSagasQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { type: 'string', enum: ORDER_STATUSES }, limit, cursor },
} as const;

export interface PutInventoryBody {
  eventName: string;
  /** Prices in major units; src/api/amounts.ts turns them into minor units or field errors. */
  ticketTypes: TicketTypeBody[];
}

export const putInventorySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['eventName', 'ticketTypes'],
  properties: {
    eventName: { type: 'string', minLength: 1, maxLength: 200 },
    ticketTypes: {
      type: 'array',
      minItems: 1,
      maxItems: 99,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['ticketType', 'totalQuantity', 'price', 'currency'],
        properties: {
          ticketType: { type: 'string', minLength: 1, maxLength: 64 },
          totalQuantity: { type: 'integer', minimum: 0, maximum: 10_000_000 },
          // Major units; exact to the currency's ISO 4217 exponent (checked in src/api/amounts.ts).
          price: { type: 'number', minimum: 0, maximum: 1_000_000 },
          currency: { type: 'string', pattern: '^[A-Z]{3}$' },
          // Inventory shards (docs/flash-sale.md): at most 100, one transaction's items.
          shards: { type: 'integer', minimum: 1, maximum: 100 },
        },
      },
    },
  },
} as const;

export const DEFAULT_PAGE_SIZE = 20;

// ---- /ops ----------------------------------------------------------------------------------

/** An SQS MessageId (a UUID on AWS). */
export const MESSAGE_ID_PATTERN = '^[A-Za-z0-9-]{1,100}$';
export const MESSAGE_ID_REGEX = new RegExp(MESSAGE_ID_PATTERN);
export const DEFAULT_DLQ_PAGE_SIZE = 50;
export const DEFAULT_STUCK_PAGE_SIZE = 100;

const operatorReason = { type: 'string', minLength: 1, maxLength: 500 } as const;

export interface OperatorReasonBody {
  reason: string;
}

/** POST /ops/sagas/:orderId/retry and /compensate. */
export const operatorReasonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: { reason: operatorReason },
} as const;

export interface LimitQuery {
  limit?: number;
}

/** GET /ops/sagas/stuck and GET /ops/dlq. */
export const limitQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { limit },
} as const;

export interface RedriveBody {
  ids?: string[];
  reason: string;
}

export const redriveSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['reason'],
  properties: {
    ids: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      uniqueItems: true,
      items: { type: 'string', pattern: MESSAGE_ID_PATTERN },
    },
    reason: operatorReason,
  },
} as const;

export interface OptionalReason {
  reason?: string;
}

/** DELETE /ops/dlq/:id takes its reason in the query or in the body. */
export const optionalReasonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: operatorReason },
} as const;
