/**
 * The live feeds of a saga, read by real clients while a worker in another process takes its
 * steps: the SSE stream (id = saga version; a reconnect with Last-Event-ID replays what was
 * missed, nothing twice) and the XState inspector feed read by @statelyai/inspect's own
 * WebSocket receiver (one @xstate.actor whose definition parses, then event/snapshot pairs in
 * version order, createdAt = the step's time).
 */
import { createWebSocketReceiver } from '@statelyai/inspect';
import { as, bearer } from '../support/auth';
import { spawnWorker, type WorkerProcess } from '../support/processes';
import { eventually, startTestService, workerEnv, type TestService } from '../support/service';
import { newEvent, placeOrder, sagaOf } from '../ops/helpers';

jest.setTimeout(300_000);

let service: TestService;
let worker: WorkerProcess;

beforeAll(async () => {
  service = await startTestService(
    { PAYMENT_SLOW_MS: '2000', STREAM_POLL_MS: '200' },
    { inProcessWorkers: false, label: 'cs' },
  );
  worker = spawnWorker(workerEnv(service.config));
});
afterAll(async () => {
  worker?.kill('SIGTERM');
  await worker?.exited;
  await service?.stop();
});

interface SseEvent {
  id: string;
  event: string;
  data: { version: number; eventType: string };
}

/** Reads an SSE stream until `enough`, then aborts it. */
async function readSse(
  url: string,
  headers: Record<string, string>,
  enough: (events: SseEvent[]) => boolean,
  timeoutMs = 90000,
): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers: { ...as.operator(), ...headers }, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop() ?? '';
      for (const block of blocks) {
        const fields = Object.fromEntries(
          block
            .split('\n')
            .filter((l) => /^(id|event|data): /.test(l))
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(': ') + 2)]),
        );
        if (fields.data) events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) });
      }
      if (enough(events)) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

it('SSE: one event per version, id = version; Last-Event-ID replays the rest once', async () => {
  const eventId = await newEvent(service.baseUrl, 5);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_slow');
  const url = `${service.baseUrl}/sagas/${orderId}/stream`;
  // Read the first two versions live, then drop the connection.
  const first = await readSse(url, {}, (es) => es.length >= 2);
  expect(first.slice(0, 2).map((e) => [e.id, e.event, e.data.version])).toEqual([
    ['1', 'step', 1],
    ['2', 'step', 2],
  ]);
  const done = await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'completed',
    90000,
  );
  // Reconnect from version 2: versions 3.. exactly once, in order.
  const rest = await readSse(
    url,
    { 'Last-Event-ID': '2' },
    (es) => es.some((e) => e.data.version === done.version),
    60000,
  );
  expect(rest.map((e) => Number(e.id))).toEqual(done.history.filter((h) => h.version > 2).map((h) => h.version));
  expect(rest.map((e) => e.data.eventType)).toEqual(done.history.filter((h) => h.version > 2).map((h) => h.eventType));
  // A bad Last-Event-ID is a 400, an unknown saga a 404.
  expect((await fetch(url, { headers: { ...as.operator(), 'Last-Event-ID': 'abc' } })).status).toBe(400);
  expect(
    (await fetch(`${service.baseUrl}/sagas/00000000-0000-4000-8000-000000000000/stream`, { headers: as.operator() }))
      .status,
  ).toBe(404);
});

it('the list stream announces a new saga', async () => {
  const eventId = await newEvent(service.baseUrl, 5);
  const url = `${service.baseUrl}/sagas/stream`;
  const reading = readSse(
    url,
    {},
    (es) => es.some((e) => (e.data as unknown as { orderId: string }).orderId === placed),
    60000,
  );
  let placed = '';
  await new Promise((r) => setTimeout(r, 500));
  placed = await placeOrder(service.baseUrl, eventId, 'tok_success');
  const events = await reading;
  expect(events.some((e) => (e.data as unknown as { orderId: string }).orderId === placed && e.event === 'saga')).toBe(
    true,
  );
});

it('the list stream shows the steps a worker in another process takes (the TicketOrders stream); Last-Event-ID resumes after the step it names, nothing twice; an older one from a bounded listing', async () => {
  const eventId = await newEvent(service.baseUrl, 5);
  const url = `${service.baseUrl}/sagas/stream`;
  let placed = '';
  type SagaData = { orderId: string; version: number; state: string };
  const mine = (es: SseEvent[]) => es.filter((e) => (e.data as unknown as SagaData).orderId === placed);
  const reading = readSse(
    url,
    {},
    (es) => mine(es).some((e) => (e.data as unknown as SagaData).state === 'completed'),
    90000,
  );
  await new Promise((r) => setTimeout(r, 500));
  placed = await placeOrder(service.baseUrl, eventId, 'tok_success');
  const live = mine(await reading);
  const done = await sagaOf(service.baseUrl, placed);
  const versions = live.map((e) => (e.data as unknown as SagaData).version);
  // Every step after the create is the worker's (inProcessWorkers: false); the last is the final one.
  expect(versions.at(-1)).toBe(done.version);
  expect(versions.some((v) => v > 1)).toBe(true);
  expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
  expect(live.every((e) => e.event === 'saga' && e.id.endsWith(`~${placed}`))).toBe(true);

  // Reconnect after the first step shown: the rest of this saga's steps, once each, in order.
  const rest = mine(
    await readSse(
      url,
      { 'Last-Event-ID': live[0].id },
      (es) => mine(es).some((e) => (e.data as unknown as SagaData).state === 'completed'),
      60000,
    ),
  );
  expect(rest.map((e) => e.id)).toEqual(live.slice(1).map((e) => e.id));
  // A Last-Event-ID older than the tail's start is served by the bounded listing fallback: the
  // sagas that changed since (the newest orders of each status), each once, as they are now.
  const fallback = mine(
    await readSse(
      url,
      { 'Last-Event-ID': `${new Date(Date.now() - 3_600_000).toISOString()}~0` },
      (es) => mine(es).length > 0,
      60000,
    ),
  );
  expect(fallback.map((e) => e.data as unknown as SagaData)).toEqual([
    expect.objectContaining({ orderId: placed, version: done.version, state: 'completed' }),
  ]);
  // A Last-Event-ID that is not one of this stream's is a 400.
  expect((await fetch(url, { headers: { ...as.operator(), 'Last-Event-ID': 'abc' } })).status).toBe(400);
});

/** An operator's token, for the WebSocket's access_token (a browser WebSocket cannot send headers). */
const operatorToken = (): string => bearer('operator', 'op-ann').Authorization.replace('Bearer ', '');

it('the inspector feed, read by @statelyai/inspect createWebSocketReceiver', async () => {
  const eventId = await newEvent(service.baseUrl, 5);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_slow');
  const received: Array<Record<string, unknown>> = [];
  const receiver = createWebSocketReceiver({
    server: `${service.baseUrl.replace('http', 'ws')}/sagas/${orderId}/inspect?access_token=${operatorToken()}`,
  });
  receiver.subscribe((event: unknown) => void received.push(event as Record<string, unknown>));
  const done = await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'completed',
    90000,
  );
  const expected = 1 + (done.history.length - 1) * 2;
  await eventually(
    async () => received.length,
    (n) => n >= expected,
    60000,
  );

  const actors = received.filter((e) => e.type === '@xstate.actor');
  expect(actors).toHaveLength(1);
  expect(received[0].type).toBe('@xstate.actor');
  const definition = JSON.parse(actors[0].definition as string) as { id: string; states: Record<string, unknown> };
  expect(definition.id).toBe('order-saga');
  expect(Object.keys(definition.states)).toContain('awaitingPayment');
  expect((actors[0].snapshot as { value: string }).value).toBe('reserving');

  const rest = received.slice(1);
  expect(rest).toHaveLength(expected - 1);
  done.history.slice(1).forEach((h, i) => {
    const event = rest[2 * i];
    const snapshot = rest[2 * i + 1];
    expect(event).toMatchObject({
      type: '@xstate.event',
      event: { type: h.eventType },
      createdAt: String(Date.parse(h.timestamp)),
    });
    expect(snapshot).toMatchObject({
      type: '@xstate.snapshot',
      snapshot: { value: h.toState },
      createdAt: String(Date.parse(h.timestamp)),
    });
  });
  expect((rest.at(-1)!.snapshot as { status: string }).status).toBe('done');
  expect(JSON.stringify(received)).not.toContain('tok_slow');
});

it('an open saga page costs one exact load per poll (a GetItem and a Query) and nothing else while the saga is still (measured, not timed)', async () => {
  const eventId = await newEvent(service.baseUrl, 5);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_success');
  const done = await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'completed',
    90000,
  );
  // The cost meter (src/observability/cost-meter.ts) counts every SDK call by Service.Operation.
  const snapshot = () => new Map(Object.entries(service.core.clients.meter.snapshot().requests));
  // Replay everything first, then measure an idle window.
  await readSse(`${service.baseUrl}/sagas/${orderId}/stream`, {}, (es) => es.length >= done.history.length);
  const before = snapshot();
  const started = Date.now();
  const controller = new AbortController();
  const res = await fetch(`${service.baseUrl}/sagas/${orderId}/stream`, {
    headers: { ...as.operator(), 'Last-Event-ID': String(done.version) },
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  await new Promise((r) => setTimeout(r, 3000));
  controller.abort();
  const seconds = (Date.now() - started) / 1000;
  const after = snapshot();
  const delta = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, d]) => d > 0);
  // Only the version poll, an exact load (issue 25: the order item's GetItem and the latest Events
  // row's Query, at once): no history query when nothing moved.
  expect(delta.map(([k]) => k).sort()).toEqual(['DynamoDB.GetItem', 'DynamoDB.Query']);
  const gets = new Map(delta).get('DynamoDB.GetItem') ?? 0;
  expect(gets).toBeGreaterThanOrEqual(2);
  expect(Math.abs((new Map(delta).get('DynamoDB.Query') ?? 0) - gets)).toBeLessThanOrEqual(1);
  console.log(
    `stream cost: ${gets} GetItem (+ as many Query) in ${seconds.toFixed(1)} s at STREAM_POLL_MS=200 (${(gets / seconds).toFixed(1)}/s; 1/s at the default 1000)`,
  );
});
