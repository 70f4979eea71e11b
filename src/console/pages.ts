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
import { statelyMachineSource } from './stately-export';
import {
  actionsFor,
  actorText,
  outcomeLabel,
  pendingCommands,
  SAGA_TONES,
  storyOf,
  toneOf,
  waitingOf,
  type SagaTone,
} from './story';
import type { SagaListFilter, SagaListRow } from './saga-listing';

const REDACT = (key: string, value: unknown): unknown => (key === 'paymentToken' ? '[redacted]' : value);
const json = (value: unknown): string => esc(JSON.stringify(value, REDACT, 2));
const sagaLink = (orderId: string, label?: string): string =>
  `<a href="/console/sagas/${encodeURIComponent(orderId)}">${esc(label ?? orderId)}</a>`;

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
<p class="muted">Checked ${timeText(d.checkedAt, new Date())}. The numbers on the diagram count open sagas in each state (red when any), and those that ended in the last 24 h (grey).</p>
<div><div class="diagram-wrap" id="diagram">${d.svg}</div></div>
<h2>Queues</h2>${queues}`,
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
  const now = new Date();
  const body = table(
    ['order', 'outcome', 'event', 'customer', 'state', 'total', 'created', 'last step'],
    rows.map(({ saga, stuck }) => [
      `${sagaLink(saga.orderId, saga.orderNumber ?? `${saga.orderId.slice(0, 8)}…`)}<div class="muted mono small" title="${esc(saga.orderId)}">${esc(saga.orderId.slice(0, 8))}</div>`,
      `${toneBadge(toneOf(saga, stuck !== null), outcomeLabel(saga, stuck !== null))}${
        stuck ? ` <span class="muted" title="${esc(stuck.reason)}">for ${esc(duration(stuck.stuckForMs))}</span>` : ''
      }`,
      `${esc(saga.eventName ?? '')} <span class="muted">${esc(saga.eventId)}</span>`,
      esc(saga.customerId),
      `${esc(saga.sagaState)} <span class="muted">${esc(saga.status)} · v${saga.sagaVersion}</span>`,
      `<span class="num">${esc(moneyText(saga.totalAmountMinor, saga.currency))}</span>`,
      timeText(saga.createdAt, now),
      timeText(saga.updatedAt, now),
    ]),
    'id="saga-list" data-stream="/sagas/stream"',
    rows.map(({ saga }) => `data-order="${esc(saga.orderId)}"`),
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
    `${form}${toneLegend()}<p class="live" id="list-live">Most recent step first. New steps show a notice; <a href="">reload</a>.</p>${body}<div class="pager">${next}</div>`,
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
  /** Who looks: the token's subject and roles (decides which actions are offered). */
  viewer?: { sub: string; roles: readonly string[] };
}

function transitionText(t: ModelTransition): string {
  return `${esc(t.event)}${t.guard ? ` <span class="muted">[${esc(t.guard)}]</span>` : ''}`;
}

/** A time readable at a glance ("3 min ago"), the exact ISO time on hover. */
export function timeText(iso: string | null | undefined, now: Date): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return esc(iso);
  const ms = now.getTime() - t;
  const words = ms >= 0 ? `${duration(ms)} ago` : `in ${duration(-ms)}`;
  return `<time datetime="${esc(iso)}" title="${esc(iso)}">${esc(words)}</time>`;
}

/** The tone's badge: one colour per tone (console.css, .tone-*), the same everywhere. */
export function toneBadge(tone: SagaTone, text: string = tone): string {
  return `<span class="badge tone-${tone}" data-tone="${tone}">${esc(text)}</span>`;
}

/** The legend of the colour language. */
export function toneLegend(): string {
  return `<p class="legend" id="legend">${SAGA_TONES.map((t) => `${toneBadge(t.tone)} <span class="muted">${esc(t.meaning)}</span>`).join(' ')}</p>`;
}

function storyHeader(d: SagaDetailData): string {
  const { saga } = d;
  const story = storyOf(saga, d.stuck !== null);
  const money = (minor: number | null | undefined) => moneyText(minor, saga.currency);
  const lines: string[] = [];
  if (story.actor) lines.push(`by <b id="story-actor">${esc(story.actor)}</b>`);
  if (story.cause) lines.push(`${story.actor ? 'with reason' : 'because'} <q id="story-cause">${esc(story.cause)}</q>`);
  const refund = saga.saga.context.refund;
  if (refund) lines.push(`refunded ${esc(money(refund.amountMinor))}`);
  const waiting = waitingOf(saga, d.payment);
  const waits = waiting
    ? `<p id="story-waits">${
        waiting.commands.length
          ? `Waits on <b>${esc(waiting.commands.join(', '))}</b>, sent ${timeText(waiting.since, d.now)}, attempt ${waiting.attempt}`
          : `Waits on ${waiting.timers.length ? 'its timer' : 'nothing'} since ${timeText(waiting.since, d.now)}`
      }${waiting.holdExpiresAt ? `; the hold expires ${timeText(waiting.holdExpiresAt, d.now)}` : ''}${
        waiting.timers.length
          ? ` <span class="muted">(timers: ${waiting.timers.map((t) => `${esc(t.kind)} ${timeText(t.dueAt, d.now)}`).join(', ')})</span>`
          : ''
      }.</p>`
    : `<p class="muted" id="story-ended">Ended ${timeText(saga.stateEnteredAt, d.now)} in ${esc(saga.sagaState)}.</p>`;
  return `<section class="story tone-${story.tone}" id="story" data-tone="${story.tone}">
<h2>${toneBadge(story.tone)} <span id="story-title">${esc(story.title)}</span>${lines.length ? ` <span class="story-line">${lines.join(' · ')}</span>` : ''}</h2>
${waits}
<p class="muted">${esc(saga.orderNumber ?? saga.orderId)} · ${esc(saga.eventName ?? saga.eventId)} · customer ${esc(saga.customerId)} · total <b id="total-amount">${esc(money(saga.totalAmountMinor))}</b> · state <b id="current-state">${esc(saga.sagaState)}</b> (status ${esc(saga.status)}) · version <span id="saga-version">${saga.sagaVersion}</span> · machine v${esc(saga.saga.machineVersion)}</p>
${d.stuck ? `<p class="flash error" id="stuck">Stuck: ${esc(d.stuck.reason)}</p>` : ''}
</section>`;
}

function actionsSection(d: SagaDetailData): string {
  const { saga } = d;
  const final = FINAL_STATES.includes(saga.sagaState);
  if (final) return '<p class="muted">The saga has ended: there is nothing to retry or compensate.</p>';
  const acts = actionsFor(saga, d.viewer?.roles ?? [], (m) => moneyText(m, saga.currency), d.notification);
  const forms = acts.offered
    .map(
      (a) =>
        `<form data-action="${a.action}" data-order="${esc(saga.orderId)}" data-version="${saga.sagaVersion}" data-effect="${esc(a.effect)}"><input name="reason" required maxlength="500" placeholder="reason (recorded)"><button class="${a.action === 'compensate' ? 'danger' : ''}" type="submit">${esc(a.label)}</button><span class="result" aria-live="polite"></span></form>`,
    )
    .join('\n');
  const withheld = acts.withheld
    .map((w) => `<li data-withheld="${w.action}"><b>${esc(w.action)}</b> not offered: ${esc(w.why)}</li>`)
    .join('');
  return `${forms ? `<p class="muted">Each action asks you to confirm, is recorded with you and your reason, and is done only if the saga is still at version ${saga.sagaVersion} (else 412, nothing done).</p>${forms}` : ''}${withheld ? `<ul class="withheld muted">${withheld}</ul>` : ''}`;
}

/** The part of the saga page that live updates replace (GET …?fragment=live). */
export function sagaLiveFragment(d: SagaDetailData): string {
  const { saga, steps, model } = d;
  const state = saga.sagaState;
  const final = model ? model.finalStates.includes(state) : FINAL_STATES.includes(state);
  const accepted = model && !final ? acceptedTransitions(model, state) : [];
  const paths = model && !final ? pathsToFinals(model, state) : new Map<string, ModelTransition[][]>();
  const pathText = (p: ModelTransition[]) => p.map((t) => `${transitionText(t)} → ${esc(t.target)}`).join(' · ');
  const happy = paths.get('completed')?.[0];
  const remaining = final
    ? '<p>The saga has ended: it accepts no more events.</p>'
    : !model
      ? `<p class="muted">Machine version ${esc(saga.saga.machineVersion)} is not in this build: its remaining steps are unknown here.</p>`
      : `<p id="next-steps">${happy ? `To complete: ${pathText(happy)}` : '<span class="muted">completed is not reachable from here</span>'}</p>
<details id="all-paths"><summary>Events ${esc(state)} accepts, and every path to each final state</summary>
<ul id="accepted-events">${accepted.map((t) => `<li data-event="${esc(t.event)}">${transitionText(t)} → ${t.target ? esc(t.target) : '<span class="muted">(stays)</span>'}</li>`).join('')}</ul>
<ul class="paths" id="remaining-paths">${[...paths]
          .map(
            ([finalState, list]) =>
              `<li data-final="${esc(finalState)}"><b>${esc(finalState)}</b>: ${
                list.length === 0
                  ? '<span class="muted">not reachable from here</span>'
                  : list.map(pathText).join('<br>or ')
              }</li>`,
          )
          .join('')}</ul></details>`;

  // Each row: how long after the previous step it came, and which diagram edge it took.
  const edgeOf = (s: ReplayedStep): string | undefined => {
    const t = model?.transitions.find(
      (x) => x.source === s.entry.fromState && x.event === s.entry.eventType && x.target === s.entry.toState,
    );
    return t ? domId('edge', t.id) : undefined;
  };
  const timeline = table(
    ['v', 'when', 'after', 'event', 'actor', 'from → to', 'context changes'],
    [...steps].reverse().map((s) => {
      const i = steps.indexOf(s);
      const prev = i > 0 ? steps[i - 1].context : {};
      const diff = contextDiff(prev, s.context).filter((c) => c.path !== 'paymentToken');
      const changes =
        diff.length === 0
          ? '<span class="muted">–</span>'
          : `<details><summary>${diff.length} change${diff.length === 1 ? '' : 's'}</summary>${diff
              .map(
                (c) =>
                  `<div class="mono"><span class="diff-del">${esc(c.path)}: ${esc(JSON.stringify(c.before) ?? '–')}</span> → <span class="diff-add">${esc(JSON.stringify(c.after))}</span></div>`,
              )
              .join('')}</details>`;
      const after =
        i === 0
          ? '<span class="muted">start</span>'
          : `+${esc(duration(Date.parse(s.entry.timestamp) - Date.parse(steps[i - 1].entry.timestamp)))}`;
      const payload = s.entry.payload ?? {};
      return [
        `${s.entry.version}`,
        timeText(s.entry.timestamp, d.now),
        after,
        `<b>${esc(s.entry.eventType)}</b>${Object.keys(payload).length ? ` <details class="payload"><summary>payload</summary><pre>${json(payload)}</pre></details>` : ''}`,
        esc(s.entry.actor ? actorText(s.entry.actor) : ''),
        s.entry.fromState === s.entry.toState
          ? `<span class="muted">stayed in ${esc(s.entry.toState)}</span>`
          : `${esc(s.entry.fromState ?? '∅')} → ${esc(s.entry.toState)}`,
        changes,
      ];
    }),
    'id="timeline" class="timeline"',
    [...steps].reverse().map((s) => {
      const edge = edgeOf(s);
      return edge ? `data-edge="${esc(edge)}" tabindex="0"` : '';
    }),
  );
  const pending = pendingCommands(saga.saga.outbox, d.notification);
  const done = saga.saga.outbox.filter((c) => !pending.includes(c));
  const outbox =
    table(
      ['command', 'id', 'due'],
      pending.map((c) => [
        esc(c.kind),
        `<span class="mono">${esc(c.commandId)}</span>`,
        c.kind === 'ScheduleHoldExpiry' || c.kind === 'ScheduleHoldReminder'
          ? `timer due ${timeText(c.dueAt, d.now)}`
          : '',
      ]),
      'id="outbox"',
    ) +
    (done.length
      ? `<p class="muted" id="outbox-done">${done.map((c) => `${esc(c.kind)} done (sent ${timeText(d.notification?.sentAt, d.now)})`).join('; ')}</p>`
      : '');
  const amounts = (r: { amountMinor?: number; currency?: string; refundedAmountMinor?: number } | undefined) =>
    r && r.amountMinor !== undefined
      ? `<p class="amount">${esc(moneyText(r.amountMinor, r.currency ?? saga.currency))}${r.refundedAmountMinor !== undefined ? ` · refunded ${esc(moneyText(r.refundedAmountMinor, r.currency ?? saga.currency))}` : ''}</p>`
      : '';
  const records = `<details id="records"><summary>Participant records (reservation, payment, notification)</summary>
<h3>Reservation</h3>${amounts(d.reservation)}${d.reservation ? `<pre id="reservation">${json(d.reservation)}</pre>` : '<p class="muted">none</p>'}
<h3>Payment and refunds</h3>${amounts(d.payment)}${d.payment ? `<pre id="payment">${json(d.payment)}</pre>` : '<p class="muted">none</p>'}
<h3>Notification</h3>${d.notification ? `<pre id="notification">${json(d.notification)}</pre>` : '<p class="muted">none</p>'}</details>`;
  return `<div id="live" data-version="${saga.sagaVersion}" data-state="${esc(state)}" data-current-dom="${esc(domId('state', state))}">
${storyHeader(d)}
<div class="grid2">
<div>
<h2>Actions</h2><div class="actions" id="actions">${actionsSection(d)}</div>
<h2>History</h2><p class="muted">Newest first. Click a row to light its transition on the diagram.</p>${timeline}
</div>
<div>
<h2>Remaining steps</h2><div id="remaining">${remaining}</div>
<h2>Pending commands and timers</h2>${outbox}
${records}
<details><summary>Context</summary><pre id="context">${json(saga.saga.context)}</pre></details>
</div></div>
<h2>The machine, with this saga's path</h2>
<div class="diagram-wrap" id="diagram">${d.svg}</div>
</div>`;
}

export function sagaDetailPage(d: SagaDetailData): string {
  const orderNumber = d.saga.orderNumber;
  return page(
    `Order ${orderNumber ?? d.saga.orderId}`,
    '/console/sagas',
    `<p class="muted">order ${esc(d.saga.orderId)} · <span class="live on" id="live-status">live</span> <label><input type="checkbox" id="live-toggle" checked> follow live</label> · <a href="/sagas/${esc(d.saga.orderId)}" data-json>JSON</a> · <a href="/console/inspect/${esc(d.saga.orderId)}">XState inspector</a></p>
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
    `<p>Machine version <b id="machine-version">${esc(version)}</b> · <a href="/machines/order-saga/versions/${encodeURIComponent(version)}" data-json>JSON definition</a> · <a href="#stately">XState code for Stately's editor</a></p>
<p id="machine-versions">Versions of this build: ${versions
      .map((v) =>
        v === version
          ? `<b>v${esc(v)}</b>`
          : `<a href="/console/machine?version=${encodeURIComponent(v)}" data-version="${esc(v)}">v${esc(v)}</a>`,
      )
      .join(' · ')} <span class="muted">(a saga runs to its end on the version it started with)</span></p>
<div class="diagram-wrap" id="diagram">${svg}</div>
<h2>States, events, targets and commands</h2>
${table(['state', 'accepts event [guard]', 'target', 'actions', 'commands on entry', 'stuck after'], rows, 'id="machine-table"')}
<h2 id="stately">XState code for Stately's editor</h2>
<details><summary>This version as <code>createMachine(...)</code> code: paste it into Stately's editor (guards and actions are named only)</summary>
<pre id="stately-code">${esc(statelyMachineSource(version))}</pre></details>`,
    'machine',
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The order a dead letter is about: its message group, or the orderId its body names. */
export function letterOrderId(m: Pick<DeadLetterView, 'groupId' | 'body'>): string | undefined {
  if (m.groupId && UUID.test(m.groupId)) return m.groupId;
  const body = m.body as { orderId?: unknown; command?: { orderId?: unknown } } | null;
  const id = typeof body === 'object' && body !== null ? (body.orderId ?? body.command?.orderId) : undefined;
  return typeof id === 'string' && UUID.test(id) ? id : undefined;
}

/** A poison message (it failed its schema or could not be read): a redrive brings it straight back. */
export function isPoison(m: Pick<DeadLetterView, 'reason'>): boolean {
  return /^poison\b|schema/i.test(m.reason);
}

export function dlqPage(messages: DeadLetterView[], now: Date = new Date()): string {
  const rows = messages.map((m) => {
    const orderId = letterOrderId(m);
    const poison = isPoison(m);
    return [
      `<input type="checkbox" name="id" value="${esc(m.id)}"${poison ? ' data-poison="1"' : ''}>`,
      `<span class="mono small">${esc(m.id)}</span>`,
      `${poison ? `${toneBadge('failed', 'poison')} ` : ''}${esc(m.reason)}`,
      orderId ? sagaLink(orderId, `${orderId.slice(0, 8)}…`) : '<span class="muted">–</span>',
      esc(m.sourceQueue ?? ''),
      `${m.receiveCount ?? ''}`,
      timeText(m.failedAt, now),
      `<details><summary>body</summary><pre>${json(m.body)}</pre></details>`,
      `<form data-action="dlq-delete" data-id="${esc(m.id)}"><input name="reason" required maxlength="500" placeholder="reason"><button class="danger" type="submit">Delete</button></form>`,
    ];
  });
  return page(
    'Dead letters',
    '/console/dlq',
    `<form id="redrive" data-action="dlq-redrive"><input name="reason" required maxlength="500" placeholder="reason for the redrive"> <button type="submit">Redrive selected</button> <span class="muted">(only the messages ticked below; a poison message asks again)</span><span class="result" aria-live="polite"></span></form>
${table(['', 'id', 'reason', 'saga', 'source queue', 'receive count', 'failed', 'body', ''], rows, 'id="dlq"')}
<p class="muted">Redrive sends the message back to its source queue (participants deduplicate); a poison message (it failed its schema) fails again and comes back. Delete removes it for good.</p>`,
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
