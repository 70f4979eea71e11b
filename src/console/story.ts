/**
 * A saga's story in plain words, pure (data in, words out): how it ended and why and who did it,
 * or what it waits on; which repair actions this operator may take now, and what each would do in
 * money and seats. The rules for the actions are the ops endpoint's own (src/ops/stuck-sagas.ts:
 * compensationRefusal, retryRefusal), not a second copy.
 */
import { FINAL_STATES, type SagaCommand } from '../../machines/order-saga';
import { compensationRefusal, retryRefusal } from '../ops/stuck-sagas';
import type { NotificationRecord, PaymentRecord } from '../participants/records';
import type { StoredSaga } from '../store/saga-store';

/**
 * The console's one colour language: each saga is in exactly one of these, shown with the same
 * colour on the list, the saga page and the legend. `stuck` wins over `open`.
 */
export type SagaTone = 'completed' | 'cancelled' | 'declined' | 'failed' | 'open' | 'stuck';
export const SAGA_TONES: ReadonlyArray<{ tone: SagaTone; meaning: string }> = [
  { tone: 'completed', meaning: 'paid, seats sold, customer told' },
  { tone: 'cancelled', meaning: 'cancelled, compensated by an operator, or the hold expired' },
  { tone: 'declined', meaning: 'the payment was declined' },
  { tone: 'failed', meaning: 'sold out or otherwise failed' },
  { tone: 'open', meaning: 'still running' },
  { tone: 'stuck', meaning: 'open and not moving (needs someone)' },
];

type SagaLike = Pick<StoredSaga, 'orderId' | 'sagaState' | 'saga' | 'status'>;

/** The tone of a saga: its outcome when it has ended, else open or stuck. */
export function toneOf(saga: SagaLike, stuck: boolean): SagaTone {
  if (!FINAL_STATES.includes(saga.sagaState)) return stuck ? 'stuck' : 'open';
  switch (saga.saga.context.outcome) {
    case 'completed':
      return 'completed';
    case 'declined':
      return 'declined';
    case 'cancelled':
    case 'compensated':
    case 'expired':
      return 'cancelled';
    default:
      return saga.sagaState === 'completed' ? 'completed' : saga.sagaState === 'cancelled' ? 'cancelled' : 'failed';
  }
}

/** `operator:ann` → "operator ann"; `customer:c-1` → "the customer c-1". */
export function actorText(by: string): string {
  const [kind, ...rest] = by.split(':');
  const who = rest.join(':');
  if (!who) return by;
  return kind === 'customer' ? `the customer ${who}` : `${kind} ${who}`;
}

/** One short line for the list's outcome column: the outcome name, or open/stuck. */
export function outcomeLabel(saga: SagaLike, stuck: boolean): string {
  const outcome = saga.saga.context.outcome;
  if (FINAL_STATES.includes(saga.sagaState)) return outcome ?? saga.sagaState;
  if (stuck) return 'stuck';
  return outcome ? `open (${outcome})` : 'open';
}

export interface SagaStory {
  tone: SagaTone;
  /** The headline: "Compensated", "Declined", "Waiting on ChargePayment", … */
  title: string;
  /** The cause, in words ("venue cancelled", "card declined"); null when there is none to tell. */
  cause: string | null;
  /** Who did it ("operator ann", "the customer c-1"); null when the system did. */
  actor: string | null;
}

/** How a saga ended (or is ending), why, and who ended it. */
export function storyOf(saga: SagaLike, stuck: boolean): SagaStory {
  const c = saga.saga.context;
  const tone = toneOf(saga, stuck);
  const ended = FINAL_STATES.includes(saga.sagaState);
  const actor = c.cancelRequested ? actorText(c.cancelRequested.by) : null;
  const prefix = ended ? '' : 'Ending: ';
  switch (c.outcome) {
    case 'completed':
      return { tone, title: 'Completed', cause: 'paid, seats confirmed, customer notified', actor: null };
    case 'compensated':
      return { tone, title: `${prefix}Compensated`, cause: c.cancelRequested?.reason ?? null, actor };
    case 'cancelled':
      return { tone, title: `${prefix}Cancelled`, cause: c.cancelRequested?.reason ?? null, actor };
    case 'declined':
      return { tone, title: `${prefix}Declined`, cause: c.payment.reason ?? 'the payment was declined', actor: null };
    case 'expired':
      return {
        tone,
        title: `${prefix}Expired`,
        cause: `the hold ran out${c.reservation ? ` at ${c.reservation.expiresAt}` : ''} before the payment`,
        actor: null,
      };
    case 'sold-out':
      return { tone, title: `${prefix}Sold out`, cause: c.failureReason ?? 'not enough seats', actor: null };
    default:
      if (ended) return { tone, title: saga.sagaState, cause: c.failureReason, actor: null };
      if (c.cancelRequested) {
        // A cancel that arrived while reserving: applied once the seats are held.
        return { tone, title: 'Running; a cancel waits', cause: c.cancelRequested.reason, actor };
      }
      return { tone, title: stuck ? 'Stuck' : 'Running', cause: null, actor: null };
  }
}

/**
 * The commands the saga still waits on. A SendNotification whose record shows `sentAt` is done,
 * even while the outbox still lists it (the outbox is what a redelivery would re-send).
 */
export function pendingCommands(outbox: readonly SagaCommand[], notification?: NotificationRecord): SagaCommand[] {
  return outbox.filter((cmd) => !(cmd.kind === 'SendNotification' && notification?.sentAt));
}

export interface Waiting {
  /** The commands a participant has to answer (timers apart). */
  commands: string[];
  /** Since when: the state was entered then (ISO). */
  since: string;
  /** The attempt: the gateway's count for a charge, else 1 + the re-sends at this version. */
  attempt: number;
  /** When the seats' hold expires (ISO), while seats are held and not yet sold. */
  holdExpiresAt: string | null;
  /** Timers due (kind and ISO time). */
  timers: Array<{ kind: string; dueAt: string }>;
}

/** What an open saga waits on; null for an ended one. */
export function waitingOf(
  saga: Pick<StoredSaga, 'sagaState' | 'saga' | 'stateEnteredAt' | 'sagaVersion' | 'resendLease'>,
  payment?: PaymentRecord,
): Waiting | null {
  if (FINAL_STATES.includes(saga.sagaState)) return null;
  const timers: Waiting['timers'] = [];
  const commands: string[] = [];
  for (const cmd of saga.saga.outbox) {
    if (cmd.kind === 'ScheduleHoldExpiry' || cmd.kind === 'ScheduleHoldReminder')
      timers.push({ kind: cmd.kind, dueAt: cmd.dueAt });
    else commands.push(cmd.kind);
  }
  const resends = saga.resendLease && saga.resendLease.version === saga.sagaVersion ? saga.resendLease.count : 0;
  const attempt = commands.includes('ChargePayment') && payment?.attempts ? payment.attempts : 1 + resends;
  const heldUnsold = saga.sagaState === 'awaitingPayment' || saga.sagaState === 'reserving';
  return {
    commands,
    since: saga.stateEnteredAt,
    attempt,
    holdExpiresAt: heldUnsold ? (saga.saga.context.reservation?.expiresAt ?? null) : null,
    timers,
  };
}

export interface OfferedAction {
  action: 'retry' | 'compensate';
  label: string;
  /** What it does, in money and seats, shown in the confirmation. */
  effect: string;
}

export interface Actions {
  /** The actions offered (empty for a read-only operator). */
  offered: OfferedAction[];
  /** Why an action is not offered, for the page to say. */
  withheld: Array<{ action: 'retry' | 'compensate'; why: string }>;
}

/**
 * The repair actions `roles` may take on `saga` now. Needs operator-repair (as the /ops routes do);
 * an action the endpoint would refuse with 409 is withheld with the endpoint's own reason.
 * `money` formats minor units in the saga's currency.
 */
export function actionsFor(
  saga: Pick<StoredSaga, 'orderId' | 'sagaState' | 'saga'>,
  roles: readonly string[],
  money: (minor: number | null | undefined) => string,
  notification?: NotificationRecord,
): Actions {
  const out: Actions = { offered: [], withheld: [] };
  if (!roles.includes('operator-repair')) {
    const why = 'your token has no operator-repair role: read only';
    out.withheld.push({ action: 'retry', why }, { action: 'compensate', why });
    return out;
  }
  const c = saga.saga.context;
  const seats = c.items.reduce((n, i) => n + i.quantity, 0);
  const seatText = `${seats} seat${seats === 1 ? '' : 's'}`;

  const retryWhy = retryRefusal(saga);
  if (retryWhy) out.withheld.push({ action: 'retry', why: retryWhy });
  else {
    const kinds = pendingCommands(saga.saga.outbox, notification).map((x) => x.kind);
    out.offered.push({
      action: 'retry',
      label: 'Retry: re-send pending commands',
      effect: `Re-sends ${kinds.join(', ') || 'the outbox'} (participants deduplicate). No money moves; the ${seatText} stay as they are.`,
    });
  }

  const compensateWhy = compensationRefusal(saga);
  if (compensateWhy) out.withheld.push({ action: 'compensate', why: compensateWhy });
  else {
    const total = c.reservation?.amountMinor;
    const refund =
      c.payment.state === 'captured'
        ? `Refunds ${money(total)} to the customer`
        : `Refunds ${money(total)} if the charge is captured meanwhile, else voids it (nothing charged)`;
    out.offered.push({
      action: 'compensate',
      label: 'Compensate: cancel and undo',
      effect: `Cancels the order: releases ${seatText}${saga.sagaState === 'confirming' ? ' (even if already sold)' : ''}. ${refund}. The customer is told it was cancelled.`,
    });
  }
  return out;
}
