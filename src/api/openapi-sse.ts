/**
 * The Server-Sent Events streams in the OpenAPI document, as far as OpenAPI 3.1 goes: it can say
 * `text/event-stream` but has no way to describe the events inside (3.2's `itemSchema` is not in
 * 3.1). So each stream's media type carries `x-events`: per event name, what its `id:` is and a
 * `$ref` to the schema of its `data:` (JSON), the schemas being in components/schemas (SSE_SCHEMAS)
 * so that generated clients get their types. The operation's description says the same in prose.
 *
 * The events are the ones the stream code writes: src/console/streams.ts (`step`, `saga`) and
 * src/console/live/sse.ts (the final `token-expired` and `shutdown`, which carry no `id:`).
 * The contract check (src/api/openapi-contract.ts) validates the events of every stream the tests
 * open against `x-events` (test/api/openapi-contract.test.ts shows it catching a wrong one).
 */
type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** The data schemas of the stream events (components/schemas). */
export const SSE_SCHEMAS: Record<string, Schema> = {
  /** `step` of GET /sagas/{orderId}/stream: one saga history row (stepEvent in src/console/streams.ts). */
  SagaStepEvent: {
    type: 'object',
    required: ['version', 'eventType', 'fromState', 'toState', 'timestamp', 'actor', 'saga'],
    properties: {
      version: { type: 'integer', minimum: 1, description: 'The saga version this step made (= the event id)' },
      eventType: { type: 'string' },
      fromState: { type: ['string', 'null'] },
      toState: { type: 'string' },
      timestamp: { type: 'string', description: 'ISO 8601, when the step was taken' },
      actor: { type: ['string', 'null'], description: 'The operator, for an operator action' },
      saga: {
        type: 'object',
        description: 'The saga as it is now (it may be past this step)',
        required: ['state', 'status', 'version'],
        properties: { state: { type: 'string' }, status: { type: 'string' }, version: { type: 'integer' } },
      },
    },
  },
  /** `saga` of GET /sagas/stream: a saga step read from the TicketOrders stream. */
  SagaListEvent: {
    type: 'object',
    required: ['orderId', 'version', 'state', 'status', 'updatedAt'],
    properties: {
      orderId: { type: 'string' },
      version: { type: 'integer', minimum: 1 },
      state: { type: 'string' },
      status: { type: 'string' },
      updatedAt: { type: 'string' },
    },
  },
  /** `token-expired`: the caller's token expired; the stream then closes (reconnect with a fresh one). */
  StreamTokenExpiredEvent: ref('ProblemUnauthorized'),
  /** `shutdown`: the process is stopping; the stream then closes (reconnect, after the `retry:` hint). */
  StreamShutdownEvent: {
    allOf: [ref('Problem')],
    properties: { status: { const: 503 } },
  },
};

interface StreamEvent {
  /** What the event's `id:` line holds (absent: the event has none). */
  id?: string;
  data: string;
  description: string;
}

const FINAL_EVENTS: Record<string, StreamEvent> = {
  'token-expired': {
    data: 'StreamTokenExpiredEvent',
    description: 'The last event when the token expires: a problem (401); the stream closes.',
  },
  shutdown: {
    data: 'StreamShutdownEvent',
    description: 'The last event when the server stops: a problem (503), after `retry: 2000`; the stream closes.',
  },
};

/** Per stream operation (path, GET): its events. */
const STREAMS: Record<string, Record<string, StreamEvent>> = {
  '/sagas/{orderId}/stream': {
    step: {
      id: 'the saga version the step made',
      data: 'SagaStepEvent',
      description: 'One per saga history row, in version order, each once per connection.',
    },
    ...FINAL_EVENTS,
  },
  '/sagas/stream': {
    saga: {
      id: '<updatedAt>~<orderId> of the step',
      data: 'SagaListEvent',
      description: 'A saga seen stepping (the index is eventually consistent: the list page is the truth).',
    },
    ...FINAL_EVENTS,
  },
};

const COMMON =
  'The stream starts with `retry: 1000`, sends a `: keep-alive` comment every 15 s, and resumes after `Last-Event-ID` (or `?lastEventId=`): what was missed is sent once. Each event is `event: <name>` and `data: <JSON>`.';

/**
 * `paths` with each stream operation's `text/event-stream` response described: the event names in
 * its description and `x-events`.
 * A stream absent from `paths` is skipped (a document of some routes only).
 * @throws Error when a stream operation has no 200 text/event-stream answer (the table and this file disagree).
 */
export function withSseEvents<P extends Record<string, Record<string, Schema>>>(paths: P): P {
  for (const [path, events] of Object.entries(STREAMS)) {
    const operation = paths[path]?.get as { description?: string; responses: Record<string, Schema> } | undefined;
    if (!operation) continue; // a document of some routes only
    const ok = operation.responses['200'] as { content?: Record<string, Schema> } | undefined;
    const media = ok?.content?.['text/event-stream'];
    if (!media) throw new Error(`openapi-sse: GET ${path} has no 200 text/event-stream answer`);
    const list = Object.entries(events)
      .map(([name, e]) => `- \`${name}\`${e.id ? ` (id: ${e.id})` : ''}: ${e.description} Data: \`${e.data}\`.`)
      .join('\n');
    operation.description = `${operation.description ?? ''}\n\nEvents:\n${list}\n\n${COMMON}`.trim();
    media['x-events'] = Object.fromEntries(
      Object.entries(events).map(([name, e]) => [name, { ...(e.id ? { id: e.id } : {}), data: ref(e.data) }]),
    );
  }
  return paths;
}
