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
import { randomUUID } from 'node:crypto';
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

/**
 * A new tab on `url`, signed in through the sign-in page as a person would: an operator-repair,
 * or a read-only operator with `role` 'operator'.
 */
async function open(
  url: string,
  operator = 'erin',
  role: 'operator' | 'operator-repair' = 'operator-repair',
): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`${service.baseUrl}/console/login`);
  const token = bearer(role, operator).Authorization.replace('Bearer ', '');
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
  expect(await page.locator(`#saga-list tr[data-order="${orderId}"]`).count()).toBe(1);

  await page.goto(`${service.baseUrl}/console/sagas?event=${eventId}&status=FAILED`);
  expect(await page.locator(`#saga-list tr[data-order="${orderId}"]`).count()).toBe(0);
  await page.goto(`${service.baseUrl}/console/sagas?event=${eventId}&customer=someone-else`);
  expect(await page.locator(`#saga-list tr[data-order="${orderId}"]`).count()).toBe(0);
  await page.goto(`${service.baseUrl}/console/sagas?q=${orderId}`);
  expect(await page.locator(`#saga-list tr[data-order="${orderId}"]`).count()).toBe(1);
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
  expect(await page.locator(`#saga-list tr[data-order="${orderId}"]`).count()).toBe(1);
  expect(await page.locator('#saga-list').textContent()).toContain('25.00 EUR');
  // The outcome column, in the legend's colour; the order number is the link; exact time on hover.
  const row = page.locator(`#saga-list tr[data-order="${orderId}"]`);
  expect(await row.locator('[data-tone=completed]').textContent()).toBe('completed');
  expect(await row.locator(`a[href="/console/sagas/${orderId}"]`).textContent()).toMatch(/^ET-/);
  expect(await row.locator('time').first().getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\dT/);
  expect(await page.locator('#legend [data-tone]').count()).toBe(6);
  await shot(page, 'list');
  await page.selectOption('select[name=state]', 'cancelled');
  await Promise.all([page.waitForURL(/state=cancelled/), page.click('#filters button[type=submit]')]);
  expect(await page.locator(`#saga-list tr[data-order="${orderId}"]`).count()).toBe(0);
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
  await page.click('form[data-action=compensate] button[type=submit]');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/ops/sagas/${orderId}/compensate`)),
    page.click('form[data-action=compensate] .confirm-yes'),
  ]);
  expect(response.status()).toBe(412);
  // The result shows beside the button.
  await page.waitForSelector('form[data-action=compensate] .result[data-result=error]');
  expect(await page.locator('form[data-action=compensate] .result').textContent()).toContain('412');
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
  await p2.click('form[data-action=compensate] button[type=submit]');
  const [ok] = await Promise.all([
    p2.waitForResponse((r) => r.url().endsWith(`/ops/sagas/${second}/compensate`)),
    p2.click('form[data-action=compensate] .confirm-yes'),
  ]);
  expect(ok.status()).toBe(202);
  await p2.waitForSelector('#state-cancelled.current', { timeout: 90000 });
  expect(await p2.getAttribute('#edge-awaitingPayment_OPERATOR_COMPENSATE_releasingSeats', 'class')).toContain('taken');
  const done = await sagaOf(service.baseUrl, second);
  expect(done.history.find((h) => h.eventType === 'OPERATOR_COMPENSATE')).toMatchObject({ actor: 'operator:erin' });
  await shot(p2, 'saga-cancelled-compensation');
  await p2.close();
});

it('an open saga names what it waits on; a read-only operator sees no repair form; a compensation confirms its refund and the header then names the operator and the reason', async () => {
  const eventId = await newEvent(service.baseUrl, 10);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_slow');
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'awaitingPayment',
    60000,
  );
  // A read-only operator: the story, no repair form, and why not.
  const ro = await open(`/console/sagas/${orderId}`, 'olga', 'operator');
  expect(await ro.locator('#who').textContent()).toBe('olga · operator');
  const waits = await ro.locator('#story-waits').textContent();
  expect(waits).toContain('Waits on ChargePayment');
  expect(waits).toContain('attempt 1');
  expect(waits).toContain('the hold expires in');
  expect(await ro.locator('#story [data-tone=open]').count()).toBe(1);
  expect(await ro.locator('form[data-action]').count()).toBe(0);
  expect(await ro.locator('[data-withheld=compensate]').textContent()).toContain('read only');
  await shot(ro, 'saga-open-read-only');
  await ro.close();

  // operator-repair ann: the confirmation names the refund, the call goes only on confirm.
  const page = await open(`/console/sagas/${orderId}`, 'ann');
  expect(await page.locator('#who').textContent()).toContain('ann · operator-repair');
  await page.uncheck('#live-toggle');
  await page.fill('form[data-action=compensate] input[name=reason]', 'venue cancelled');
  await page.click('form[data-action=compensate] button[type=submit]');
  await page.waitForSelector('form[data-action=compensate] .confirm');
  const effect = await page.locator('form[data-action=compensate] .confirm .effect').textContent();
  expect(effect).toContain('Refunds 25.00 EUR');
  expect(effect).toContain('releases 1 seat');
  expect((await sagaOf(service.baseUrl, orderId)).history.some((h) => h.eventType === 'OPERATOR_COMPENSATE')).toBe(
    false,
  );
  await shot(page, 'saga-compensate-confirm');
  const [ok] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/ops/sagas/${orderId}/compensate`)),
    page.click('form[data-action=compensate] .confirm-yes'),
  ]);
  expect(ok.status()).toBe(202);
  await page.check('#live-toggle');
  await page.waitForSelector('#state-cancelled.current', { timeout: 120000 });
  // The result stays in view, under Actions.
  expect(await page.locator('#actions .result[data-result=ok]').textContent()).toContain('compensate accepted');
  expect(await page.locator('#story-title').textContent()).toBe('Compensated');
  expect(await page.locator('#story-actor').textContent()).toBe('operator ann');
  expect(await page.locator('#story-cause').textContent()).toBe('venue cancelled');
  expect(await page.locator('#story [data-tone=cancelled]').count()).toBe(1);
  // Clicking the compensation's history row lights its edge.
  await page.click('#timeline tr[data-edge="edge-awaitingPayment_OPERATOR_COMPENSATE_releasingSeats"]');
  expect(await page.getAttribute('#edge-awaitingPayment_OPERATOR_COMPENSATE_releasingSeats', 'class')).toContain('lit');
  // The ended saga's notification is not pending once its record shows sentAt.
  // (The customer's notice may still be on its way right after the end: reload until it is sent.)
  await eventually(
    async () => {
      await page.reload();
      await page.waitForSelector('#story-title');
      return (await page.locator('#outbox-done').count()) > 0 ? await page.locator('#outbox-done').textContent() : '';
    },
    (text) => (text ?? '').includes('SendNotification done'),
    90000,
  );
  expect(await page.locator('#outbox').textContent()).not.toContain('SendNotification');
  // The JSON link shows the same read in the console, with the tab's token.
  await page.click('a[data-json]');
  await page.waitForSelector('#json-view pre');
  expect(await page.locator('#json-view pre').textContent()).toContain(`"orderId": "${orderId}"`);
  await page.click('#json-view button');
  await shot(page, 'saga-compensated');
  await page.close();
});

it('Compensate is absent where the service would refuse it (settlingPayment after a customer cancel); the ended saga says who cancelled', async () => {
  const eventId = await newEvent(service.baseUrl, 10);
  const orderId = await placeOrder(service.baseUrl, eventId, 'tok_slow');
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'awaitingPayment',
    60000,
  );
  const cancel = await http(
    service.baseUrl,
    'POST',
    `/orders/${orderId}/cancel`,
    { reason: 'changed my mind' },
    as.customer('c-ops'),
  );
  expect(cancel.status).toBe(202);
  // The slow charge is still in flight: the saga settles it before it can end.
  await eventually(
    () => sagaOf(service.baseUrl, orderId),
    (s) => s.state === 'settlingPayment' || s.state === 'cancelled',
    60000,
  );
  const page = await open(`/console/sagas/${orderId}`, 'ann');
  const state = await page.getAttribute('#live', 'data-state');
  expect(await page.locator('form[data-action=compensate]').count()).toBe(0);
  if (state === 'settlingPayment') {
    // The page says why, in the ops endpoint's own words (compensationRefusal).
    expect(await page.locator('[data-withheld=compensate]').textContent()).toContain(
      'compensation is already under way',
    );
    expect(await page.locator('form[data-action=retry]').count()).toBe(1);
    await shot(page, 'saga-settling-payment');
  }
  await page.waitForSelector('#state-cancelled.current', { timeout: 120000 });
  expect(await page.locator('#story-title').textContent()).toBe('Cancelled');
  expect(await page.locator('#story-actor').textContent()).toBe('the customer c-ops');
  expect(await page.locator('#story-cause').textContent()).toBe('changed my mind');
  await page.close();
});

it('a dead letter is redriven from the dead-letters page: nothing selected redrives nothing, a poison one warns first', async () => {
  const aboutOrder = randomUUID();
  const poison = {
    type: 'command',
    correlationId: 'corr-console-dlq',
    command: { kind: 'LaunchRockets', commandId: `${aboutOrder}:LaunchRockets`, orderId: aboutOrder },
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
  const row = page.locator('#dlq tbody tr', { has: page.locator(`input[value="${letter.id}"]`) });
  // The message links to its saga, and is flagged poison (it failed its schema).
  expect(await row.locator(`a[href="/console/sagas/${aboutOrder}"]`).count()).toBe(1);
  expect(await row.locator('[data-tone=failed]').textContent()).toBe('poison');
  await shot(page, 'dlq');

  // Nothing selected: nothing is redriven, and no redrive request is sent at all.
  const redriveCalls: string[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/ops/dlq/redrive')) redriveCalls.push(r.url());
  });
  await page.fill('#redrive input[name=reason]', 'rockets fixed');
  await page.click('#redrive button[type=submit]');
  await page.waitForSelector('#redrive .result[data-result=error]');
  expect(await page.locator('#redrive .result').textContent()).toContain('nothing selected');
  expect(redriveCalls).toEqual([]);
  expect((await letters()).some((m) => m.id === letter.id)).toBe(true);

  // Selected and poison: a warning first, the redrive only on "Redrive anyway".
  await page.check(`#dlq input[value="${letter.id}"]`);
  await page.click('#redrive button[type=submit]');
  await page.waitForSelector('#redrive .confirm');
  expect(await page.locator('#redrive .confirm .effect').textContent()).toContain('poison');
  expect(redriveCalls).toEqual([]);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/ops/dlq/redrive')),
    page.click('#redrive .confirm-yes'),
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
  expect(await page.getAttribute('link[rel=icon]', 'href')).toBe('/console/assets/favicon.svg');
  expect((await page.request.get(`${service.baseUrl}/console/assets/favicon.svg`)).status()).toBe(200);
  expect(browser.requests.filter((u) => u.endsWith('/favicon.ico'))).toEqual([]);
  // A browser that asks anyway (an old tab, a bookmark) gets the icon, without a token.
  const ico = await fetch(`${service.baseUrl}/favicon.ico`);
  expect(ico.status).toBe(200);
  expect(ico.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
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
  // No error banner; the Authorize button holds the console tab's token, and "Try it out" sends it.
  expect(await page.locator('.swagger-ui .errors-wrapper').allTextContents()).toEqual([]);
  await page.waitForSelector('.swagger-ui .btn.authorize.locked');
  const overview = page.locator('.opblock', { has: page.locator('[data-path="/ops/overview"]') }).first();
  await overview.locator('.opblock-summary').click();
  await overview.locator('.try-out__btn').click();
  const [tried] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/ops/overview')),
    overview.locator('.execute').click(),
  ]);
  expect(tried.status()).toBe(200);
  await shot(page, 'swagger');
  await page.close();
});
