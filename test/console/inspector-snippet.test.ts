/**
 * The inspector as docs/operations.md tells an engineer to open it, against a real saga: the
 * snippet, copied from the docs as written, receives the saga's frames with a token, and without
 * one reports the 401 and exits 1 instead of crashing; `npm run inspect -- <orderId>` (its script)
 * serves a relay page that posts to Stately's origin only, and relays the feed's frames to it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { bearer } from '../support/auth';
import { eventually, startTestService, type TestService } from '../support/service';
import { newEvent, placeOrder, sagaOf } from '../ops/helpers';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '../..');
let service: TestService;
const children: ChildProcess[] = [];

beforeAll(async () => {
  service = await startTestService({ STREAM_POLL_MS: '200' }, { label: 'is' });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await service?.stop();
});

/** The first ```js block of docs/operations.md's inspector section. */
function docsSnippet(): string {
  const doc = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Engineers: the XState inspector'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('no js snippet in the inspector section of docs/operations.md');
  return match[1];
}

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function run(command: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

const operatorToken = () => bearer('operator', 'eng-ivy').Authorization.replace('Bearer ', '');

it("the docs' snippet, as written, receives a real saga's frames with a token, and reports a 401 without one", async () => {
  const file = path.join(ROOT, `.inspect-saga-${process.pid}.mjs`);
  writeFileSync(file, docsSnippet());
  try {
    const eventId = await newEvent(service.baseUrl, 5);
    const orderId = await placeOrder(service.baseUrl, eventId, 'tok_success');
    await eventually(
      () => sagaOf(service.baseUrl, orderId),
      (s) => s.state === 'completed',
      90000,
    );
    const ok = run(process.execPath, [file, orderId], {
      EVENTTICKET_URL: service.baseUrl,
      EVENTTICKET_TOKEN: operatorToken(),
    });
    await eventually(
      async () => ok.out(),
      (out) => out.includes('@xstate.snapshot NOTIFICATION_SENT completed'),
      60000,
    );
    const lines = ok.out().trim().split('\n');
    expect(lines[0]).toBe('@xstate.actor  reserving');
    expect(lines).toContain('@xstate.snapshot SEATS_RESERVED awaitingPayment');
    expect(lines).toContain('@xstate.event NOTIFICATION_SENT ');
    ok.child.kill('SIGTERM');
    await ok.exited;

    // No token: the 401 is reported and the process exits 1, with no unhandled 'error' crash.
    const refused = run(process.execPath, [file, orderId], { EVENTTICKET_URL: service.baseUrl, EVENTTICKET_TOKEN: '' });
    expect(await refused.exited).toBe(1);
    expect(refused.err()).toContain('inspector feed: Unexpected server response: 401');
    expect(refused.err()).not.toContain("Unhandled 'error' event");
  } finally {
    rmSync(file, { force: true });
  }
});

it('npm run inspect: a relay page that posts to Stately only, fed with the saga’s frames through the script', async () => {
  const eventId = await newEvent(service.baseUrl, 5);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_success');
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'completed',
    90000,
  );
  // What `npm run inspect -- <orderId>` runs (package.json: tsx scripts/inspect.ts).
  const bridge = run(process.execPath, ['--import', 'tsx', 'scripts/inspect.ts', orderId], {
    EVENTTICKET_URL: service.baseUrl,
    EVENTTICKET_TOKEN: operatorToken(),
  });
  const printed = await eventually(
    async () => /open (http:\/\/127\.0\.0\.1:\d+)\//.exec(bridge.out()),
    (m) => m !== null,
    60000,
  );
  const base = printed![1];
  const page = await (await fetch(`${base}/`)).text();
  expect(page).toContain('"https://stately.ai/inspect"');
  expect(page).toContain('target.postMessage(ev, ORIGIN)');
  expect(page).not.toContain("'*'");
  expect(page).not.toContain(operatorToken());

  const frames: Array<{ type: string; snapshot?: { value?: string } }> = [];
  const ws = new WebSocket(`${base.replace('http', 'ws')}/feed`);
  ws.on('error', () => undefined);
  ws.on('message', (data: WebSocket.RawData) =>
    frames.push(JSON.parse(Buffer.from(data as Buffer).toString('utf8')) as (typeof frames)[number]),
  );
  await eventually(
    async () => frames,
    (f) => f.some((x) => x.type === '@xstate.snapshot' && x.snapshot?.value === 'completed'),
    60000,
  );
  expect(frames[0].type).toBe('@xstate.actor');
  ws.close();
  bridge.child.kill('SIGTERM');
  await bridge.exited;
});
