/** A tiny JSON client for end-to-end tests (Node's fetch, no mocks). */
import { as } from './auth';
export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export async function http<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

/** One buyer's order, as POST /orders takes it. */
export interface BuyerOrder {
  customerId: string;
  eventId: string;
  paymentToken: string;
  /** Seats of `ticketType` (default 1 of GA). */
  quantity?: number;
  ticketType?: string;
}

/**
 * POST /orders as the buyer (a customer token for `customerId`), with extra headers (an
 * Idempotency-Key, say); the raw answer, whatever its status.
 */
export function postOrder<T = Record<string, unknown>>(
  baseUrl: string,
  order: BuyerOrder,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const { customerId, eventId, paymentToken, quantity = 1, ticketType = 'GA' } = order;
  return http<T>(
    baseUrl,
    'POST',
    '/orders',
    { customerId, eventId, items: [{ ticketType, quantity }], paymentToken },
    { ...as.customer(customerId), ...headers },
  );
}

/**
 * GET /ops/sagas/stuck as an operator: the listing's body. Throws when the answer is not 200, so a
 * caller that polls it with `eventually` fails with the status instead of a missing entry.
 */
export async function stuckSagas<T>(baseUrl: string): Promise<T> {
  const res = await http<T>(baseUrl, 'GET', '/ops/sagas/stuck', undefined, as.operator());
  if (res.status !== 200) throw new Error(`GET /ops/sagas/stuck answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}
