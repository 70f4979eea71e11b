/**
 * Errors as RFC 9457 problem details (`application/problem+json`). `type` is a stable,
 * machine-readable URI; `title` is its short human name; `detail` says what happened this time.
 */
import type { Response } from 'express';

const BASE = 'https://eventticket.dev/problems/';

export const PROBLEM_TYPES = {
  'malformed-json': { status: 400, title: 'Malformed JSON body' },
  validation: { status: 400, title: 'Request validation failed' },
  'invalid-header': { status: 400, title: 'Invalid request header' },
  'invalid-cursor': { status: 400, title: 'Invalid pagination cursor' },
  'bad-request': { status: 400, title: 'Bad request' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed for your roles' },
  'not-found': { status: 404, title: 'Resource not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'too-late-to-cancel': { status: 409, title: 'Too late to cancel' },
  'sold-out': { status: 409, title: 'Sold out' },
  'inventory-conflict': { status: 409, title: 'Inventory change conflicts with held or sold seats' },
  'saga-state-conflict': { status: 409, title: "Not possible in the saga's current state" },
  'precondition-failed': { status: 412, title: 'The saga moved on since it was shown' },
  'body-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'unprocessable-order': { status: 422, title: 'Order cannot be processed' },
  'unknown-event': { status: 422, title: 'Unknown event' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency-Key reused with a different request' },
  'invalid-inventory': { status: 422, title: 'Invalid inventory' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  /** Another 4xx raised by Express or body-parser (its own status is kept: see clientErrorProblem). */
  'client-error': { status: 400, title: 'Client error' },
  'service-unavailable': { status: 503, title: 'Service unavailable' },
  internal: { status: 500, title: 'Internal server error' },
} as const;

export type ProblemKind = keyof typeof PROBLEM_TYPES;

export interface FieldError {
  /** JSON pointer into the request part (`/items/0/quantity`), or a header / query / path name. */
  field: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  correlationId?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  override name = 'ProblemError';
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  /** The table's status; a 'client-error' carries the 4xx it was raised with (extensions.status). */
  get status(): number {
    const raised = this.extensions.status;
    if (this.kind === 'client-error' && typeof raised === 'number' && raised >= 400 && raised <= 499) return raised;
    return PROBLEM_TYPES[this.kind].status;
  }
}

export function problemBody(
  kind: ProblemKind,
  detail: string,
  extra: {
    errors?: FieldError[];
    instance?: string;
    correlationId?: string;
    extensions?: Record<string, unknown>;
    status?: number;
  } = {},
): ProblemBody {
  const { title } = PROBLEM_TYPES[kind];
  const status = extra.status ?? PROBLEM_TYPES[kind].status;
  return {
    ...extra.extensions,
    type: `${BASE}${kind}`,
    title,
    status,
    detail,
    ...(extra.instance ? { instance: extra.instance } : {}),
    ...(extra.correlationId ? { correlationId: extra.correlationId } : {}),
    ...(extra.errors && extra.errors.length > 0 ? { errors: extra.errors } : {}),
  };
}

export function sendProblem(res: Response, body: ProblemBody, headers: Record<string, string> = {}): void {
  res.status(body.status);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.type('application/problem+json').send(JSON.stringify(body));
}
