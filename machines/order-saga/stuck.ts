/**
 * What "stuck" means, once, per state. Pure: the stuck listing (/ops/sagas/stuck), the console,
 * the invariant checker and the sweeper all judge a saga with `assessStuck` and these rules; only
 * the threshold they pass differs (STUCK_AFTER_MS for the people, STALLED_AFTER_MS for the
 * sweeper's earlier self-repair).
 *
 * The clock starts when the saga entered its state (`stateEnteredAt`): a step that leaves it in
 * place (a customer's cancel remembered in reserving, an operator's retry) is not progress.
 */
import { ORDER_STATUS_BY_STATE, type OrderSagaState } from './status';
import type { OrderSagaContext, SagaCommand } from './types';

export type StuckRule =
  /** Stuck once the threshold has passed since the state was entered. */
  | { kind: 'in-state' }
  /**
   * Stuck once the threshold has passed since the hold (context.reservation.expiresAt) expired:
   * the state legitimately waits while the hold is live, and its timer (or the sweeper) must end
   * it after that. Without a known hold it falls back to in-state.
   */
  | { kind: 'after-hold' }
  /** Final states are never stuck. */
  | { kind: 'never' };

/** The rule of every state: the only place it is decided. */
export const STUCK_RULE_BY_STATE = {
  reserving: { kind: 'in-state' },
  awaitingPayment: { kind: 'after-hold' },
  confirming: { kind: 'in-state' },
  notifying: { kind: 'in-state' },
  releasingSeats: { kind: 'in-state' },
  settlingPayment: { kind: 'in-state' },
  refunding: { kind: 'in-state' },
  completed: { kind: 'never' },
  cancelled: { kind: 'never' },
  failed: { kind: 'never' },
} as const satisfies Record<keyof typeof ORDER_STATUS_BY_STATE, StuckRule>;

/** Default threshold (ms) after which an open saga counts as stuck (config STUCK_AFTER_MS). */
export const DEFAULT_STUCK_AFTER_MS = 30_000;

/** What the verdict needs of a saga (a StoredSaga, or an order row from a scan, fits). */
export interface StuckCandidate {
  sagaState: OrderSagaState;
  /** ISO time the saga entered its state; absent on very old rows, then updatedAt is used. */
  stateEnteredAt?: string;
  updatedAt: string;
  saga: { outbox: readonly Pick<SagaCommand, 'kind'>[]; context: Pick<OrderSagaContext, 'reservation'> };
}

export interface StuckVerdict {
  /** When the saga's threshold ran out (ISO). */
  stuckSince: string;
  /** How long ago that was (ms). */
  stuckForMs: number;
  /** How long the saga has been in its state (ms). */
  inStateForMs: number;
  reason: string;
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/**
 * When `saga` becomes stuck under `thresholdMs` (epoch ms), or null for a state that never is.
 * NaN when the saga's times cannot be read.
 */
export function stuckDeadline(saga: StuckCandidate, thresholdMs: number): number | null {
  const rule: StuckRule = STUCK_RULE_BY_STATE[saga.sagaState];
  if (!rule || rule.kind === 'never') return null;
  const enteredAt = Date.parse(saga.stateEnteredAt ?? saga.updatedAt);
  const holdEnds = rule.kind === 'after-hold' ? Date.parse(saga.saga.context.reservation?.expiresAt ?? '') : Number.NaN;
  return Number.isNaN(holdEnds) ? enteredAt + thresholdMs : holdEnds + thresholdMs;
}

/** Pure: whether `saga` is stuck at `now` under `thresholdMs` (ms), and why; null when it is not. */
export function assessStuck(
  saga: StuckCandidate,
  now: Date,
  thresholdMs: number = DEFAULT_STUCK_AFTER_MS,
): StuckVerdict | null {
  const deadline = stuckDeadline(saga, thresholdMs);
  if (deadline === null || Number.isNaN(deadline)) return null;
  const nowMs = now.getTime();
  if (nowMs <= deadline) return null;
  const enteredAt = Date.parse(saga.stateEnteredAt ?? saga.updatedAt);
  const waitingOn = saga.saga.outbox.map((c) => c.kind);
  const waiting = waitingOn.length > 0 ? `; waiting on ${waitingOn.join(', ')}` : '';
  const expiresAt = saga.saga.context.reservation?.expiresAt;
  const reason =
    STUCK_RULE_BY_STATE[saga.sagaState].kind === 'after-hold' &&
    expiresAt !== undefined &&
    !Number.isNaN(Date.parse(expiresAt))
      ? `still in ${saga.sagaState} ${seconds(nowMs - Date.parse(expiresAt))} after its hold expired at ${expiresAt} (grace ${seconds(thresholdMs)})${waiting}`
      : `no progress in ${saga.sagaState} for ${seconds(nowMs - enteredAt)} (threshold ${seconds(thresholdMs)})${waiting}`;
  return {
    stuckSince: new Date(deadline).toISOString(),
    stuckForMs: nowMs - deadline,
    inStateForMs: nowMs - enteredAt,
    reason,
  };
}

/** A sentence for the rule of a state under `thresholdMs`, for the machine page and the docs. */
export function describeStuckRule(state: OrderSagaState, thresholdMs: number): string {
  const rule: StuckRule = STUCK_RULE_BY_STATE[state];
  if (rule.kind === 'never') return 'never (final)';
  if (rule.kind === 'after-hold') return `${seconds(thresholdMs)} after the hold expires`;
  return `${seconds(thresholdMs)} in the state`;
}
