/**
 * Shutdown of the real service process (`node --import tsx src/main.ts`, issue 22 kind 5): with a
 * saga stream and an inspector feed open, SIGTERM (or SIGINT) tells the stream `event: shutdown`
 * (with a retry hint) and closes the feed with 1001, then the process exits 0 within
 * SHUTDOWN_TIMEOUT_MS. Before, it waited for the clients forever.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { bearer, TEST_AUTH_ENV, tokenFor } from '../support/auth';
import { spawnWorker } from '../support/processes';
import { eventually, startTestService, workerEnv, type TestService } from '../support/service';
import { newEvent, placeOrder, sagaOf } from '../ops/helpers';

jest.setTimeout(180_000);

/** The bound under test; the test allows generous slack on top (a busy machine), never the old "forever". */
const SHUTDOWN_TIMEOUT_MS = 4000;
let service: TestService;
let orderId: string;

beforeAll(async () => {
  service = await startTestService({}, { label: 'sd' });
  const eventId = await newEvent(service.baseUrl, 5);
  orderId = await placeOrder(service.baseUrl, eventId, 'tok_success');
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'completed',
    90000,
  );
});
afterAll(async () => {
  await service?.stop();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((r) => (timer = setTimeout(() => r(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

it.each(['SIGTERM', 'SIGINT'] as const)(
  '%s with a stream and a feed open: clients told to reconnect, exit 0 within the bound',
  async (signal) => {
    const port = await freePort();
    const proc = spawnWorker(
      workerEnv(service.config, {
        ...TEST_AUTH_ENV,
        REDIS_URL: service.config.redisUrl,
        SERVICE_MODE: 'all',
        PORT: String(port),
        STREAM_POLL_MS: '200',
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      }),
    );
    const base = `http://127.0.0.1:${port}`;
    try {
      await eventually(
        () =>
          fetch(`${base}/actuator/health`)
            .then((r) => r.status)
            .catch(() => 0),
        (s) => s > 0,
        60000,
      );
      // An open saga stream, read to its last step.
      const controller = new AbortController();
      const res = await fetch(`${base}/sagas/${orderId}/stream`, {
        headers: bearer('operator', 'op-shutdown'),
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      let text = '';
      const reading = (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          text += decoder.decode(chunk, { stream: true });
        return 'ended by the server';
      })().catch(() => 'aborted');
      await eventually(
        async () => text,
        (t) => t.includes('event: step'),
      );
      // An open inspector feed.
      const ws = new WebSocket(`ws://127.0.0.1:${port}/sagas/${orderId}/inspect`, {
        headers: { Authorization: `Bearer ${await tokenFor('operator', 'op-shutdown')}` },
      });
      const closed = new Promise<{ code: number; reason: string }>((r) =>
        ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
      );
      await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));

      const sentAt = Date.now();
      proc.kill(signal);
      const exit = await within(proc.exited, SHUTDOWN_TIMEOUT_MS + 15000, undefined);
      const tookMs = Date.now() - sentAt;
      controller.abort();
      ws.terminate();
      expect(exit).toEqual({ code: 0, signal: null });
      expect(tookMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 15000);
      expect(await within(reading, 1000, 'still open')).toBe('ended by the server');
      // The last event says why, with a retry hint, and no id (Last-Event-ID stays the last step).
      const last = text.trim().split('\n\n').at(-1)!;
      expect(last).toMatch(/^retry: \d+\nevent: shutdown\ndata: /);
      expect(JSON.parse(last.slice(last.indexOf('data: ') + 6))).toMatchObject({ status: 503 });
      expect(await within(closed, 1000, { code: -1, reason: 'still open' })).toEqual({
        code: 1001,
        reason: 'server shutting down',
      });
    } finally {
      proc.kill('SIGKILL');
      await proc.exited;
    }
  },
);
