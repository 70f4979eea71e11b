/**
 * A saga's history replayed through the machine (pure): the context and state after every step,
 * for the timeline's context diffs and the inspector feed's snapshots. The Events rows carry each
 * event's payload; the machine's pure transition rebuilds what the saga knew at each version.
 * Rows that are not machine events (ORDER_PLACED starts it, OPERATOR_RETRY records an action)
 * leave the context as it was.
 */
import {
  applyEvent,
  historySteps,
  isKnownMachineVersion,
  isOrderSagaState,
  startSaga,
  type OrderSagaContext,
  type OrderSagaEvent,
  type OrderSagaInput,
  type PersistedSaga,
} from '../../machines/order-saga';
import type { SagaHistoryEntry } from '../store/saga-store';

export interface ReplayedStep {
  entry: SagaHistoryEntry;
  /** The machine event applied at this version; null for ORDER_PLACED and operator records. */
  event: OrderSagaEvent | null;
  state: string;
  context: OrderSagaContext;
}

function inputOf(context: OrderSagaContext): OrderSagaInput {
  const { orderId, customerId, eventId, items, paymentToken, holdSeconds } = context;
  return { orderId, customerId, eventId, items, paymentToken, holdSeconds };
}

/**
 * Replays `history` (oldest first) from the saga's input, taken from `current`'s context, on
 * `current`'s machine version. When a
 * step cannot be replayed (a history written by another machine version), the stored state of
 * the row is kept and the context is carried over unchanged.
 */
export function replay(current: PersistedSaga, history: readonly SagaHistoryEntry[]): ReplayedStep[] {
  const steps: ReplayedStep[] = [];
  // A machine version this build lacks cannot be replayed: the rows' states, the current context.
  if (!isKnownMachineVersion(current.machineVersion)) {
    return history.map((entry) => ({ entry, event: null, state: entry.toState, context: current.context }));
  }
  let saga: PersistedSaga | undefined;
  // The one history fold (machines/order-saga/history.ts): which rows are machine events, and theirs.
  for (const { row: entry, event } of historySteps(history)) {
    if (!saga) {
      // On the saga's own machine version (machines/order-saga/registry.ts).
      saga = startSaga(inputOf(current.context), current.machineVersion).saga;
      steps.push({ entry, event: null, state: saga.state, context: saga.context });
      continue;
    }
    if (!event) {
      steps.push({ entry, event: null, state: saga.state, context: saga.context });
      continue;
    }
    try {
      saga = applyEvent(saga, event).saga;
    } catch {
      if (isOrderSagaState(entry.toState)) saga = { ...saga, state: entry.toState };
    }
    steps.push({ entry, event, state: saga.state, context: saga.context });
  }
  return steps;
}

export interface ContextChange {
  path: string;
  before: unknown;
  after: unknown;
}

function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, value);
  }
}

/** The leaves that differ between two contexts, by dotted path (arrays compared whole). */
export function contextDiff(before: unknown, after: unknown): ContextChange[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(before, '', a);
  flatten(after, '', b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths
    .filter((p) => JSON.stringify(a.get(p)) !== JSON.stringify(b.get(p)))
    .map((path) => ({ path, before: a.get(path), after: b.get(path) }));
}
