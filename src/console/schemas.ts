/** The console's and the streams' query schemas (ajv, closed): one source for validation and OpenAPI. */
import { knownMachineVersions, ORDER_STATUS_BY_STATE } from '../../machines/order-saga';
import { ID_PATTERN, ORDER_STATUSES } from '../http/schemas';

export interface ConsoleListQuery {
  q?: string;
  state?: string;
  status?: string;
  customer?: string;
  event?: string;
  age?: string;
  stuck?: string;
  open?: string;
  cursor?: string;
  limit?: number;
}

const emptyOr = (schema: object) => ({ anyOf: [{ const: '' }, schema] });

export const consoleListQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    q: { type: 'string', maxLength: 200 },
    state: emptyOr({ enum: Object.keys(ORDER_STATUS_BY_STATE) }),
    status: emptyOr({ enum: [...ORDER_STATUSES] }),
    customer: emptyOr({ type: 'string', pattern: ID_PATTERN }),
    event: emptyOr({ type: 'string', pattern: ID_PATTERN }),
    age: { enum: ['', '5m', '1h', '24h', '7d'] },
    stuck: { enum: ['', '1'] },
    open: { enum: ['', '1'] },
    cursor: { type: 'string', maxLength: 4096, pattern: '^[A-Za-z0-9_-]*$' },
    limit: { type: 'integer', minimum: 1, maximum: 100 },
  },
} as const;

export interface SagaPageQuery {
  fragment?: 'live';
}

export const sagaPageQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { fragment: { const: 'live' } },
} as const;

export interface MachinePageQuery {
  /** A machine version of this build (machines/order-saga/registry.ts); default the start version. */
  version?: string;
}

export const machinePageQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { version: { enum: knownMachineVersions() } },
} as const;

export interface StreamQuery {
  lastEventId?: string;
}

/** `lastEventId` stands in for the Last-Event-ID header where a client cannot set headers. */
export const sagaStreamQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { lastEventId: { type: 'string', pattern: '^[0-9]{1,15}$' } },
} as const;

export const listStreamQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { lastEventId: { type: 'string', maxLength: 300 } },
} as const;

export const AGE_MS: Record<string, number> = { '5m': 300_000, '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 };
