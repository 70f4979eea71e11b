/** The console's pages as HTML text: data in, markup out (no I/O here). */
import {
  describeStuckRule,
  FINAL_STATES,
  ORDER_STATUS_BY_STATE,
  type OrderSagaState,
  type StuckVerdict,
} from '../../machines/order-saga';
import type { DeadLetterView } from '../ops/dead-letter-ops';
import type { VersionWaitSummary } from '../ops/version-waits';
import { exponentOf, fromMinorUnits } from '../money/money';
import type { QueueDepths } from '../ops/queue-depths';
import type { NotificationRecord, PaymentRecord, ReservationRecord } from '../participants/records';
import type { StoredSaga } from '../store/saga-store';
import { domId } from './diagram';
import { dataJson, duration, esc, page, table } from './html';
import { acceptedTransitions, pathsToFinals, type MachineModel, type ModelTransition } from './machine-model';
import { contextDiff, type ReplayedStep } from './replay';
import type { SagaListFilter, SagaListRow } from './saga-listing';

const REDACT = (key: string, value: unknown): unknown => (key === 'paymentToken' ? '[redacted]' : value);
const json = (value: unknown): string => esc(JSON.stringify(value, REDACT, 2));
const sagaLink = (orderId: string, label?: string): string =>
  `<a href="/console/sagas/${encodeURIComponent(orderId)}">${esc(label ?? orderId)}</a>`;
const stateBadge = (state: string, final: boolean): string =>
  `<span class="badge${final ? ' final' : ''}">${esc(state)}</span>`;

export interface OverviewData {
  open: number;
  stuck: number;
  deadLetters: number;
  queues: QueueDepths;
  counts: Record<string, number>;
  svg: string;
  checkedAt: string;
  /** Open sagas whose events wait for a build that knows their machine version (/ops/overview). */
  versionWaits: VersionWaitSummary;
}

/**
 * `minor` units of `currency` as a decimal with the currency's exponent ("26.70 EUR", "1500 JPY",
 * "1.234 KWD"; src/money), or '–' when unknown.
 */
export function moneyText(minor: number | null | undefined, currency: string | null | undefined): string {
  if (minor === null || minor === undefined || !currency) return '–';
  const exponent = exponentOf(currency);
  if (exponent === undefined || !Number.isSafeInteger(minor)) return `${minor} minor units ${currency}`;
  return `${fromMinorUnits(minor, currency).toFixed(exponent)} ${currency}`;
}

export function overviewPage(d: OverviewData): string {
  const cards = [
    ['Open sagas', d.open, '/console/sagas?open=1', false],
    ['Stuck', d.stuck, '/console/sagas?stuck=1', d.stuck > 0],
    ['Dead letters', d.deadLetters, '/console/dlq', d.deadLetters > 0],
    ['Unknown machine version', d.versionWaits.sagas, '/ops/sagas/machine-versions', d.versionWaits.sagas > 0],
  ]
    .map(
      ([label, n, href, alert]) =>
        `<a class="card${alert ? ' alert' : ''}" href="${href}" data-card="${esc(label)}"><div class="n">${esc(n)}</div><div class="l">${esc(label)}</div></a>`,
    )
    .join('');
  const queues = table(
    ['queue', 'visible', 'in flight', 'delayed'],
    Object.entries(d.queues).map(([name, q]) => [
      esc(name),
      `<span class="num">${q.visible}</span>`,
      `${q.inFlight}`,
      `${'delayed' in q ? String((q as { delayed?: number }).delayed ?? '') : ''}`,
    ]),
  );
  return page(
    'Overview',
    '/console',
    `<div class="cards">${cards}</div>
${
  d.versionWaits.sagas > 0
    ? `<p class="flash error" id="version-waits">${esc(d.versionWaits.sagas)} open saga(s) wait for a build that knows their machine version: ${Object.entries(
        d.versionWaits.byVersion,
      )
        .map(([v, n]) => `v${esc(v)}: ${esc(n)}`)
        .join(', ')} (<a href="/ops/sagas/machine-versions">which</a>).</p>`
    : ''
}
<p class="muted">Checked ${esc(d.checkedAt)}. The numbers on the diagram count open sagas in each state, and those that ended in the last 24 h.</p>
<div class="grid2"><div class="diagram-wrap" id="diagram">${d.svg}</div><div><h2>Queues</h2>${queues}</div></div>`,
    'overview',
  );
}

export function sagaListPage(
  filter: SagaListFilter & { ageLabel?: string },
  rows: SagaListRow[],
  nextCursor: string | null,
  query: URLSearchParams,
  states: string[],
): string {
  const opt = (values: string[], selected: string | undefined) =>
    [
      '<option value="">any</option>',
      ...values.map((v) => `<option${v === selected ? ' selected' : ''}>${esc(v)}</option>`),
    ].join('');
  const ages = ['', '5m', '1h', '24h', '7d'];
  const form = `<form class="filters" method="get" action="/console/sagas" id="filters">
<label>search orderId / orderNumber<input name="q" value="${esc(filter.q ?? '')}" placeholder="ET-2026-000123 or uuid"></label>
<label>state<select name="state">${opt(states, filter.state)}</select></label>
<label>status<select name="status">${opt([...new Set(Object.values(ORDER_STATUS_BY_STATE))], filter.status)}</select></label>
<label>customer<input name="customer" value="${esc(filter.customerId ?? '')}"></label>
<label>event<input name="event" value="${esc(filter.eventId ?? '')}"></label>
<label>created within<select name="age">${ages.map((a) => `<option value="${a}"${a === (filter.ageLabel ?? '') ? ' selected' : ''}>${a || 'any'}</option>`).join('')}</select></label>
<label>stuck<select name="stuck"><option value="">any</option><option value="1"${filter.stuck ? ' selected' : ''}>stuck only</option></select></label>
<label>open<select name="open"><option value="">any</option><option value="1"${filter.open ? ' selected' : ''}>open only</option></select></label>
<button type="submit">Filter</button> <a href="/console/sagas">clear</a>
</form>`;
  const body = table(
    ['order', 'number', 'event', 'customer', 'state', 'status', 'total', 'version', 'created', 'last step', ''],
    rows.map(({ saga, stuck }) => [
      sagaLink(saga.orderId),
      esc(saga.orderNumber ?? ''),
      `${esc(saga.eventName ?? '')} <span class="muted">${esc(saga.eventId)}</span>`,
      esc(saga.customerId),
      stateBadge(
        saga.sagaState,
        saga.status === 'COMPLETED' || saga.status === 'CANCELLED' || saga.status === 'FAILED',
      ),
      esc(saga.status),
      `<span class="num">${esc(moneyText(saga.totalAmountMinor, saga.currency))}</span>`,
      `${saga.sagaVersion}`,
      esc(saga.createdAt),
      esc(saga.updatedAt),
      stuck
        ? `<span class="badge stuck" title="${esc(stuck.reason)}">stuck ${esc(duration(stuck.stuckForMs))}</span>`
        : '',
    ]),
    'id="saga-list" data-stream="/sagas/stream"',
  );
  const next = nextCursor
    ? (() => {
        const q = new URLSearchParams(query);
        q.set('cursor', nextCursor);
        return `<a href="/console/sagas?${esc(q.toString())}" id="next-page">next page →</a>`;
      })()
    : '';
  return page(
    'Sagas',
    '/console/sagas',
    `${form}<p class="live" id="list-live">Most recent step first. New steps show a notice; <a href="">reload</a>.</p>${body}<div class="pager">${next}</div>`,
    'list',
  );
}

export interface SagaDetailData {
  saga: StoredSaga;
  steps: ReplayedStep[];
  /** The model of the saga's own machine version; null when this build does not have it. */
  model: MachineModel | null;
  svg: string;
  stuck: StuckVerdict | null;
  reservation?: ReservationRecord;
  payment?: PaymentRecord;
  notification?: NotificationRecord;
  now: Date;
}

function transitionText(t: ModelTransition): string {
  return `${esc(t.event)}${t.guard ? ` <span class="muted">[${esc(t.guard)}]</span>` : ''}`;
}

/** The part of the saga page that live updates replace (GET …?fragment=live). */
export function sagaLiveFragment(d: SagaDetailData): string {
  const { saga, steps, model } = d;
  const state = saga.sagaState;
  const final = model ? model.finalStates.includes(state) : FINAL_STATES.includes(state);
  const accepted = model && !final ? acceptedTransitions(model, state) : [];
  const paths = model && !final ? pathsToFinals(model, state) : new Map<string, ModelTransition[][]>();
  const remaining = final
    ? '<p>The saga has ended: it accepts no more events.</p>'
    : !model
      ? `<p class="muted">Machine version ${esc(saga.saga.machineVersion)} is not in this build: its remaining steps are unknown here.</p>`
      : `<h3>Events ${esc(state)} accepts</h3>
<ul id="accepted-events">${accepted.map((t) => `<li data-event="${esc(t.event)}">${transitionText(t)} → ${t.target ? esc(t.target) : '<span class="muted">(stays)</span>'}</li>`).join('')}</ul>
<h3>Paths to each final state</h3>
<ul class="paths" id="remaining-paths">${[...paths]
          .map(
            ([finalState, list]) =>
              `<li data-final="${esc(finalState)}"><b>${esc(finalState)}</b>: ${
                list.length === 0
                  ? '<span class="muted">not reachable from here</span>'
                  : list.map((p) => p.map((t) => `${transitionText(t)} → ${esc(t.target)}`).join(' · ')).join('<br>or ')
              }</li>`,
          )
          .join('')}</ul>`;

  // Time in state: from the step that entered it to the step that left it (or now).
  const enteredAt = new Map<number, number>();
  let currentStart = 0;
  const timeInState: number[] = steps.map(() => 0);
  steps.forEach((s, i) => {
    if (i === 0 || s.entry.fromState !== s.entry.toState) currentStart = i;
    enteredAt.set(i, currentStart);
  });
  steps.forEach((s, i) => {
    const changes = i === 0 || s.entry.fromState !== s.entry.toState;
    if (!changes) return;
    let j = i + 1;
    while (j < steps.length && steps[j].entry.fromState === steps[j].entry.toState) j++;
    const end = j < steps.length ? Date.parse(steps[j].entry.timestamp) : d.now.getTime();
    timeInState[i] = end - Date.parse(s.entry.timestamp);
  });
  const timeline = table(
    ['v', 'time', 'event', 'actor', 'from → to', 'time in state', 'context changes'],
    [...steps].reverse().map((s) => {
      const i = steps.indexOf(s);
      const prev = i > 0 ? steps[i - 1].context : {};
      const diff = contextDiff(prev, s.context).filter((c) => c.path !== 'paymentToken');
      const changes =
        diff.length === 0
          ? '<span class="muted">–</span>'
          : diff
              .map(
                (c) =>
                  `<div class="mono"><span class="diff-del">${esc(c.path)}: ${esc(JSON.stringify(c.before) ?? '–')}</span> → <span class="diff-add">${esc(JSON.stringify(c.after))}</span></div>`,
              )
              .join('');
      const stateChanged = i === 0 || s.entry.fromState !== s.entry.toState;
      return [
        `${s.entry.version}`,
        esc(s.entry.timestamp),
        `<b>${esc(s.entry.eventType)}</b>${Object.keys(s.entry.payload ?? {}).length ? `<pre>${json(s.entry.payload)}</pre>` : ''}`,
        esc(s.entry.actor ?? ''),
        `${esc(s.entry.fromState ?? '∅')} → ${esc(s.entry.toState)}`,
        stateChanged ? esc(duration(timeInState[i])) : '<span class="muted">(stayed)</span>',
        changes,
      ];
    }),
    'id="timeline"',
  );
  const outbox = table(
    ['command', 'id', 'due'],
    saga.saga.outbox.map((c) => [
      esc(c.kind),
      `<span class="mono">${esc(c.commandId)}</span>`,
      c.kind === 'ScheduleHoldExpiry' ? `timer due ${esc(c.dueAt)}` : '',
    ]),
    'id="outbox"',
  );
  const amounts = (r: { amountMinor?: number; currency?: string; refundedAmountMinor?: number } | undefined) =>
    r && r.amountMinor !== undefined
      ? `<p class="amount">${esc(moneyText(r.amountMinor, r.currency ?? saga.currency))}${r.refundedAmountMinor !== undefined ? ` · refunded ${esc(moneyText(r.refundedAmountMinor, r.currency ?? saga.currency))}` : ''}</p>`
      : '';
  const records = `<h3>Reservation</h3>${amounts(d.reservation)}${d.reservation ? `<pre id="reservation">${json(d.reservation)}</pre>` : '<p class="muted">none</p>'}
<h3>Payment and refunds</h3>${amounts(d.payment)}${d.payment ? `<pre id="payment">${json(d.payment)}</pre>` : '<p class="muted">none</p>'}
<h3>Notification</h3>${d.notification ? `<pre id="notification">${json(d.notification)}</pre>` : '<p class="muted">none</p>'}`;
  const stuckLine = d.stuck ? `<p class="flash error" id="stuck">Stuck: ${esc(d.stuck.reason)}</p>` : '';
  const actionForm = (action: string, label: string, cls = '') =>
    `<form data-action="${action}" data-order="${esc(saga.orderId)}" data-version="${saga.sagaVersion}"><input name="reason" required maxlength="500" placeholder="reason (recorded)"><button class="${cls}" type="submit">${esc(label)}</button></form>`;
  const orderNumber = saga.orderNumber;
  const eventName = saga.eventName;
  return `<div id="live" data-version="${saga.sagaVersion}" data-state="${esc(state)}" data-current-dom="${esc(domId('state', state))}">
${stuckLine}
<div class="cards">
<div class="card"><div class="n" id="current-state">${esc(state)}</div><div class="l">state · status ${esc(saga.status)}</div></div>
<div class="card"><div class="n" id="saga-version">${saga.sagaVersion}</div><div class="l">version · machine v${esc(saga.saga.machineVersion)}</div></div>
<div class="card"><div class="n">${esc(duration(d.now.getTime() - Date.parse(saga.stateEnteredAt)))}</div><div class="l">in state since ${esc(saga.stateEnteredAt)}</div></div>
<div class="card"><div class="n">${esc(orderNumber ?? '–')}</div><div class="l">order number · ${esc(eventName ?? saga.eventId)} · customer ${esc(saga.customerId)}</div></div>
<div class="card"><div class="n" id="total-amount">${esc(moneyText(saga.totalAmountMinor, saga.currency))}</div><div class="l">total</div></div>
</div>
<div class="grid2">
<div><div class="diagram-wrap" id="diagram">${d.svg}</div></div>
<div>
<h2>Remaining steps</h2><div id="remaining">${remaining}</div>
<h2>Repair</h2><div class="actions" id="actions">${
    final
      ? '<p class="muted">The saga has ended: there is nothing to retry or compensate.</p>'
      : `<p class="muted">Each action is recorded with you and your reason, and is done only if the saga is still at version ${saga.sagaVersion} (else 412, nothing done).</p>
${actionForm('retry', 'Retry: re-send pending commands')}
${actionForm('compensate', 'Compensate: cancel and undo', 'danger')}`
  }</div>
<h2>Pending commands (outbox) and timers</h2>${outbox}
<h2>Participant records</h2>${records}
</div></div>
<h2>History</h2>${timeline}
<h2>Context</h2><pre id="context">${json(saga.saga.context)}</pre>
</div>`;
}

export function sagaDetailPage(d: SagaDetailData): string {
  const orderNumber = d.saga.orderNumber;
  return page(
    `Saga ${orderNumber ?? d.saga.orderId}`,
    '/console/sagas',
    `<p class="muted">order ${esc(d.saga.orderId)} · <span class="live on" id="live-status">live</span> <label><input type="checkbox" id="live-toggle" checked> follow live</label> · <a href="/sagas/${esc(d.saga.orderId)}">JSON</a> · <a href="/console/inspect/${esc(d.saga.orderId)}">XState inspector</a></p>
<div id="saga" data-order="${esc(d.saga.orderId)}" data-stream="/sagas/${esc(d.saga.orderId)}/stream">${sagaLiveFragment(d)}</div>`,
    'saga',
  );
}

/** The machine page of one `version`, with links to every version this build runs (`versions`). */
export function machinePage(
  model: MachineModel,
  svg: string,
  version: string,
  stuckAfterMs: number,
  versions: readonly string[] = [version],
): string {
  const rows = model.states.map((s) => {
    const ts = model.transitions.filter((t) => t.source === s.id);
    return [
      `<b>${esc(s.id)}</b>${s.type === 'final' ? ' <span class="badge final">final</span>' : ''}`,
      ts.length === 0 ? '<span class="muted">none</span>' : ts.map(transitionText).join('<br>'),
      ts.map((t) => (t.target ? esc(t.target) : '<span class="muted">(stays)</span>')).join('<br>'),
      ts.map((t) => esc(t.actions.filter((a) => a !== 'xstate.assign').join(', ') || '–')).join('<br>'),
      esc(s.entryCommands.join(', ') || '–'),
      esc(describeStuckRule(s.id as OrderSagaState, stuckAfterMs)),
    ];
  });
  return page(
    `Machine ${model.id}`,
    '/console/machine',
    `<p>Machine version <b id="machine-version">${esc(version)}</b> · <a href="/machines/order-saga/versions/${encodeURIComponent(version)}">JSON definition</a></p>
<p id="machine-versions">Versions of this build: ${versions
      .map((v) =>
        v === version
          ? `<b>v${esc(v)}</b>`
          : `<a href="/console/machine?version=${encodeURIComponent(v)}" data-version="${esc(v)}">v${esc(v)}</a>`,
      )
      .join(' · ')} <span class="muted">(a saga runs to its end on the version it started with)</span></p>
<div class="diagram-wrap" id="diagram">${svg}</div>
<h2>States, events, targets and commands</h2>
${table(['state', 'accepts event [guard]', 'target', 'actions', 'commands on entry', 'stuck after'], rows, 'id="machine-table"')}`,
    'machine',
  );
}

export function dlqPage(messages: DeadLetterView[]): string {
  const rows = messages.map((m) => [
    `<input type="checkbox" name="id" value="${esc(m.id)}">`,
    `<span class="mono">${esc(m.id)}</span>`,
    esc(m.reason),
    esc(m.sourceQueue ?? ''),
    `${m.receiveCount ?? ''}`,
    esc(m.failedAt ?? ''),
    `<pre>${json(m.body)}</pre>`,
    `<form data-action="dlq-delete" data-id="${esc(m.id)}"><input name="reason" required maxlength="500" placeholder="reason"><button class="danger" type="submit">Delete</button></form>`,
  ]);
  return page(
    'Dead letters',
    '/console/dlq',
    `<form id="redrive" data-action="dlq-redrive"><input name="reason" required maxlength="500" placeholder="reason for the redrive"> <button type="submit">Redrive selected</button> <span class="muted">(none selected: all listed)</span></form>
${table(['', 'id', 'reason', 'source queue', 'receive count', 'failed at', 'body', ''], rows, 'id="dlq"')}
<p class="muted">Redrive sends the message back to its source queue (participants deduplicate); delete removes it for good.</p>`,
    'dlq',
  );
}

export function loginPage(): string {
  return page(
    'Sign in',
    '/console/login',
    `<form id="login" class="filters"><label>Bearer token (an operator's JWT; kept in this tab's sessionStorage and a console-only cookie; actions are recorded with its subject)<textarea name="token" rows="3" cols="70"></textarea></label>
<button type="submit">Save</button> <button type="button" class="secondary" id="logout">Forget</button></form>`,
    'login',
  );
}

export { dataJson };
