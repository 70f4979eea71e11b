/**
 * The console in headless Chromium, against the real service (API in this process) on the
 * emulator, with the workers in another OS process: the list shows a new saga and filters it;
 * the saga page lights the current state and follows a worker's step live; the remaining steps
 * are listed; a compensate decided on a stale version gets 412 and changes nothing; a dead letter
 * is redriven from its page; and no request left 127.0.0.1.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser, type TestBrowser } from '../support/browser';
import { http } from '../support/http';
import { as, bearer } from '../support/auth';
import { spawnWorker, type WorkerProcess } from '../support/processes';
import { eventually, startTestService, workerEnv, type TestService } from '../support/service';
import { newEvent, placeOrder, sagaOf } from '../ops/helpers';
import type { DeadLetterView } from '../../src/ops/dead-letter-ops';
import { START_VERSION } from '../../machines/order-saga';

jest.setTimeout(300_000);

let service: TestService;
let worker: WorkerProcess;
let browser: TestBrowser;
/** Set SCREENSHOTS=1 to write the console screenshots of docs/console/. */
const SHOTS = process.env.SCREENSHOTS === '1' ? path.resolve(__dirname, '../../docs/console') : undefined;

beforeAll(async () => {
  // The charge takes 12 s: long enough to see a saga wait in awaitingPayment. With 4 s, a loaded
  // machine (seen in a CI try beside other runs) let the saga complete, and the page follow it live,
  // between the wait for awaitingPayment and the page's checks of that state.
  service = await startTestService(
    { PAYMENT_SLOW_MS: '12000', STREAM_POLL_MS: '250', STUCK_AFTER_MS: '60000' },
    { inProcessWorkers: false, label: 'cb' },
  );
  worker = spawnWorker(workerEnv(service.config));
  browser = await launchBrowser();
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  worker?.kill('SIGTERM');
  await worker?.exited;
  await service?.stop();
  // No request left this host.
  if (browser) {
    const foreign = browser.requests.filter(
      (url) => !url.startsWith(service.baseUrl) && !url.startsWith('data:') && url !== 'about:blank',
    );
    expect(foreign).toEqual([]);
  }
});

/** A new tab on `url`, signed in as an operator-repair through the sign-in page, as a person would. */
async function open(url: string, operator = 'erin'): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`${service.baseUrl}/console/login`);
  const token = bearer('operator-repair', operator).Authorization.replace('Bearer ', '');
  await page.fill('#login textarea[name=token]', token);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('[data-flash=ok]');
  await page.goto(`${service.baseUrl}${url}`);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.evaluate(() => window.scrollTo(0, 0));
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

it('the list shows a new saga, and its filters keep and drop it', async () => {
  const eventId = await newEvent(service.baseUrl, 10);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_success');
  const page = await open(`/console/sagas?event=${eventId}`);
  expect(await page.locator('#saga-list tbody tr').count()).toBe(1);
  expect(await page.locator('#saga-list').textContent()).toContain(orderId);

  await page.goto(`${service.baseUrl}/console/sagas?event=${eventId}&status=FAILED`);
  expect(await page.locator('#saga-list').textContent()).not.toContain(orderId);
  await page.goto(`${service.baseUrl}/console/sagas?event=${eventId}&customer=someone-else`);
  expect(await page.locator('#saga-list').textContent()).not.toContain(orderId);
  await page.goto(`${service.baseUrl}/console/sagas?q=${orderId}`);
  expect(await page.locator('#saga-list').textContent()).toContain(orderId);
  // Through the form: filter by the state it reaches.
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'completed',
    90000,
  );
  await page.goto(`${service.baseUrl}/console/sagas`);
  await page.fill('input[name=event]', eventId);
  await page.selectOption('select[name=state]', 'completed');
  await Promise.all([page.waitForURL(/state=completed/), page.click('#filters button[type=submit]')]);
  expect(await page.locator('#saga-list').textContent()).toContain(orderId);
  expect(await page.locator('#saga-list').textContent()).toContain('25.00 EUR');
  await page.selectOption('select[name=state]', 'cancelled');
  await Promise.all([page.waitForURL(/state=cancelled/), page.click('#filters button[type=submit]')]);
  expect(await page.locator('#saga-list').textContent()).not.toContain(orderId);
  await page.close();
});

it('the saga page lights the current state, lists the remaining steps, and follows a worker step live', async () => {
  const eventId = await newEvent(service.baseUrl, 10);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_slow');
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'awaitingPayment',
    60000,
  );
  const page = await open(`/console/sagas/${orderId}`);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
  expect(await page.getAttribute('#state-awaitingPayment', 'class')).toContain('current');
  expect(await page.getAttribute('#edge-reserving_SEATS_RESERVED_awaitingPayment', 'class')).toContain('taken');
  const accepted = await page.locator('#accepted-events li').allTextContents();
  expect(accepted.join(' ')).toContain('PAYMENT_CAPTURED');
  expect(accepted.join(' ')).toContain('HOLD_EXPIRED');
  expect(await page.locator('#remaining-paths li[data-final=completed]').textContent()).toContain(
    'PAYMENT_CAPTURED → confirming',
  );
  expect(await page.locator('#remaining-paths li[data-final=cancelled]').textContent()).toContain('releasingSeats');
  // One GA seat at 25 EUR, shown from the order's 2500 minor units.
  expect(await page.locator('#total-amount').textContent()).toBe('25.00 EUR');
  await shot(page, 'saga-mid-flight');

  // The worker (another process) captures the charge; the page follows without a reload.
  await page.waitForSelector('#state-completed.current', { timeout: 90000 });
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
  expect(await page.getAttribute('#state-awaitingPayment', 'class')).not.toContain('current');
  expect(await page.getAttribute('#edge-awaitingPayment_PAYMENT_CAPTURED_confirming', 'class')).toContain('taken');
  expect(await page.locator('#remaining').textContent()).toContain('ended');
  expect(await page.locator('#timeline tbody tr').count()).toBe(
    (await sagaOf(service.baseUrl, orderId)).history.length,
  );
  await page.close();
});

it('a compensate decided on a stale version gets 412 and changes nothing; on the current one it compensates', async () => {
  const eventId = await newEvent(service.baseUrl, 10);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_slow');
  const shown = await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'awaitingPayment',
    60000,
  );
  const page = await open(`/console/sagas/${orderId}`);
  await page.uncheck('#live-toggle');
  // The saga moves on while the operator decides.
  const moved = await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.version > shown.version,
    90000,
  );
  expect(await page.getAttribute('form[data-action=compensate]', 'data-version')).toBe(String(shown.version));
  await page.fill('form[data-action=compensate] input[name=reason]', 'customer called');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/ops/sagas/${orderId}/compensate`)),
    page.click('form[data-action=compensate] button'),
  ]);
  expect(response.status()).toBe(412);
  await page.waitForSelector('[data-flash=error]');
  expect(await page.locator('#flash').textContent()).toContain('412');
  const after = await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'completed',
    90000,
  );
  expect(after.history.some((h) => h.eventType === 'OPERATOR_COMPENSATE')).toBe(false);
  expect(after.version).toBeGreaterThanOrEqual(moved.version);
  await page.close();

  // A fresh saga compensated at the version shown: the compensation path, drawn.
  const second = await placeOrder(service.baseUrl, eventId, 'tok_slow');
  await eventually(
    () => sagaOf(service.baseUrl, second),
    (s) => s.state === 'awaitingPayment',
    60000,
  );
  const p2 = await open(`/console/sagas/${second}`);
  await p2.fill('form[data-action=compensate] input[name=reason]', 'fraud suspected');
  const [ok] = await Promise.all([
    p2.waitForResponse((r) => r.url().endsWith(`/ops/sagas/${second}/compensate`)),
    p2.click('form[data-action=compensate] button'),
  ]);
  expect(ok.status()).toBe(202);
  await p2.waitForSelector('#state-cancelled.current', { timeout: 90000 });
  expect(await p2.getAttribute('#edge-awaitingPayment_OPERATOR_COMPENSATE_releasingSeats', 'class')).toContain('taken');
  const done = await sagaOf(service.baseUrl, second);
  expect(done.history.find((h) => h.eventType === 'OPERATOR_COMPENSATE')).toMatchObject({ actor: 'operator:erin' });
  await shot(p2, 'saga-cancelled-compensation');
  await p2.close();
});

it('a dead letter is redriven from the dead-letters page', async () => {
  const poison = {
    type: 'command',
    correlationId: 'corr-console-dlq',
    command: { kind: 'LaunchRockets', commandId: 'x:LaunchRockets', orderId: 'x' },
  };
  await service.core.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: service.core.queues.inventory,
      MessageBody: JSON.stringify(poison),
      MessageAttributes: { correlationId: { DataType: 'String', StringValue: 'corr-console-dlq' } },
    }),
  );
  const letters = async () =>
    (await http<{ messages: DeadLetterView[] }>(service.baseUrl, 'GET', '/ops/dlq?limit=100', undefined, as.operator()))
      .body.messages;
  const [letter] = await eventually(
    letters,
    (ms) => ms.some((m) => m.correlationId === 'corr-console-dlq'),
    60000,
  ).then((ms) => ms.filter((m) => m.correlationId === 'corr-console-dlq'));
  const page = await open('/console/dlq', 'dana');
  expect(await page.locator('#dlq').textContent()).toContain(letter.id);
  await page.check(`#dlq input[value="${letter.id}"]`);
  await page.fill('#redrive input[name=reason]', 'rockets fixed');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/ops/dlq/redrive')),
    page.click('#redrive button'),
  ]);
  expect(response.status()).toBe(200);
  expect(await response.json()).toMatchObject({ redriven: [letter.id] });
  // Redriven to its source queue: the worker reads it again and, still poison, it comes back as a new message.
  await eventually(
    letters,
    (ms) =>
      ms.some((m) => m.correlationId === 'corr-console-dlq' && m.id !== letter.id) &&
      !ms.some((m) => m.id === letter.id),
    60000,
  );
  await page.close();
});

it('the overview and the machine page render from the machine (screenshots when asked)', async () => {
  const page = await open('/console');
  expect(await page.locator('svg.machine-diagram g.state').count()).toBe(10);
  expect(await page.locator('#state-completed .count').textContent()).toMatch(/^[1-9][0-9]*$/);
  await shot(page, 'overview');
  await page.goto(`${service.baseUrl}/console/machine`);
  // The start version by default, with a link to every version this build runs.
  expect(await page.locator('#machine-version').textContent()).toBe(START_VERSION);
  expect(await page.locator('#machine-table').textContent()).toContain('ChargePayment, ScheduleHoldExpiry');
  expect(await page.locator('#machine-table').textContent()).not.toContain('ScheduleHoldReminder');
  await shot(page, 'machine');
  await page.locator('#machine-versions a[data-version="3"]').click();
  await page.waitForURL(/version=3/);
  expect(await page.locator('#machine-version').textContent()).toBe('3');
  expect(await page.locator('#machine-table').textContent()).toContain('ScheduleHoldReminder');
  // Swagger UI, from swagger-ui-dist served here, renders the document.
  await page.goto(`${service.baseUrl}/docs`);
  await page.waitForSelector('.swagger-ui .opblock', { timeout: 90000 });
  expect(await page.locator('.swagger-ui .opblock').count()).toBeGreaterThan(20);
  await page.close();
});
