/**
 * Request pieces every HTTP room shares (the API's routes and the console's): id patterns, the
 * order statuses a query may name, the empty query, and the path parameters of orders and events.
 */
import type { OrderStatus } from '../../machines/order-saga';
import type { ParamSpec } from './route';

/** Customer and event ids: no whitespace or control characters (they are hashed and logged). */
export const ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$';
export const ID_REGEX = new RegExp(ID_PATTERN);
/** An order id as OpenAPI documents it (either letter case; the routes then lower-case it). */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const UUID_REGEX = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'PENDING',
  'PROCESSING',
  'CONFIRMED',
  'COMPLETED',
  'CANCELLED',
  'FAILED',
];

/** The query of a route that reads none: any parameter is a 400. */
export const emptyQuerySchema = { type: 'object', additionalProperties: false, properties: {} } as const;

/** :orderId, a UUID, lower-cased before use (ids are stored lower-case). */
export const ORDER_ID_PARAM: ParamSpec = { pattern: UUID_PATTERN, expected: 'a UUID', lowercase: true };
/** :eventId, an id of the ID_PATTERN alphabet. */
export const EVENT_ID_PARAM: ParamSpec = {
  pattern: ID_PATTERN,
  expected: 'an id of letters, digits and ._:@- (at most 128)',
};
