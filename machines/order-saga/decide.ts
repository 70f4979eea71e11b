/**
 * The saga as two pure functions: start and apply. They run the machine with XState's pure
 * `initialTransition` / `transition` (nothing executes) and hand back the next snapshot and the
 * commands to send. The runtime persists the one and dispatches the other.
 */
import { initialTransition, transition } from 'xstate';
import { ORDER_SAGA_VERSION, orderSagaMachine } from './machine';
import { isOrderSagaState, orderStatusOf, type OrderSagaState } from './status';
import type { OrderSagaContext, OrderSagaEvent, OrderSagaInput, OrderStatus, SagaCommand } from './types';

/** What is stored: enough to resume, nothing that belongs to one process. */
export interface PersistedSaga {
  machineVersion: string;
  state: OrderSagaState;
  context: OrderSagaContext;
  /**
   * The commands the saga waits on in its state (the outbox). Kept with the snapshot so that a
   * worker dying between the write and the send loses nothing: a redelivery re-sends them.
   */
  outbox: SagaCommand[];
}

export interface Decision {
  saga: PersistedSaga;
  status: OrderStatus;
  done: boolean;
  commands: SagaCommand[];
}

export class UnknownMachineVersionError extends Error {
  constructor(readonly found: string) {
    super(`saga snapshot was written by order-saga machine version ${found}; this build runs ${ORDER_SAGA_VERSION}`);
  }
}

type MachineSnapshot = ReturnType<typeof orderSagaMachine.resolveState>;
type MachineAction = { type: string; params?: unknown };

function commandsOf(actions: readonly MachineAction[]): SagaCommand[] {
  return actions.filter((a) => a.type === 'command').map((a) => a.params as SagaCommand);
}

function stateOf(snapshot: MachineSnapshot): OrderSagaState {
  const state = snapshot.value;
  if (!isOrderSagaState(state)) throw new Error(`order-saga reached an unmapped state ${JSON.stringify(state)}`);
  return state;
}

/** A new state waits on the commands it just sent; staying put adds to what it already waits on. */
function decision(snapshot: MachineSnapshot, actions: readonly MachineAction[], previous?: PersistedSaga): Decision {
  const state = stateOf(snapshot);
  const commands = commandsOf(actions);
  const outbox = previous && previous.state === state ? [...previous.outbox, ...commands] : commands;
  const saga: PersistedSaga = { machineVersion: ORDER_SAGA_VERSION, state, context: snapshot.context, outbox };
  return { saga, status: orderStatusOf(state), done: snapshot.status === 'done', commands };
}

/** Restores a stored saga; a snapshot from an unknown machine version fails fast. */
export function restore(saga: PersistedSaga): MachineSnapshot {
  if (saga.machineVersion !== ORDER_SAGA_VERSION) throw new UnknownMachineVersionError(saga.machineVersion);
  return orderSagaMachine.resolveState({ value: saga.state, context: saga.context });
}

export function startSaga(input: OrderSagaInput): Decision {
  const [snapshot, actions] = initialTransition(orderSagaMachine, input);
  return decision(snapshot, actions);
}

/**
 * Applies one event. `changed` is false when the machine ignores the event in this state
 * (a late or duplicate reply): nothing is persisted then.
 */
export function applyEvent(saga: PersistedSaga, event: OrderSagaEvent): Decision & { changed: boolean } {
  const [snapshot, actions] = transition(orderSagaMachine, restore(saga), event);
  const next = decision(snapshot, actions, saga);
  const changed = next.saga.state !== saga.state || JSON.stringify(next.saga.context) !== JSON.stringify(saga.context);
  return { ...next, changed };
}

/** Whether the machine would react to this event now (the API's 409 check). */
export function accepts(saga: PersistedSaga, event: OrderSagaEvent): boolean {
  return restore(saga).can(event);
}

/** The final states reachable from each state, read from the machine's own transitions. */
function reachableFinals(): Record<OrderSagaState, Set<OrderSagaState>> {
  const nodes = orderSagaMachine.root.states;
  const next = (state: string): string[] =>
    [...nodes[state]!.transitions.values()].flat().flatMap((t) => (t.target ?? []).map((n) => n.key));
  const out = {} as Record<OrderSagaState, Set<OrderSagaState>>;
  for (const start of Object.keys(nodes)) {
    if (!isOrderSagaState(start)) continue;
    const seen = new Set<string>([start]);
    const queue: string[] = [start];
    const finals = new Set<OrderSagaState>();
    while (queue.length > 0) {
      const state = queue.shift()!;
      if (isOrderSagaState(state) && nodes[state]!.type === 'final') finals.add(state);
      for (const to of next(state)) if (!seen.has(to)) (seen.add(to), queue.push(to));
    }
    out[start] = finals;
  }
  return out;
}

/**
 * The states from which every path ends in `cancelled` (releasingSeats, settlingPayment, refunding),
 * derived from the machine's transitions so that a new state or transition changes it with them.
 */
export const CANCEL_BOUND_STATES: readonly OrderSagaState[] = Object.entries(reachableFinals())
  .filter(([state, finals]) => state !== 'cancelled' && finals.size === 1 && finals.has('cancelled'))
  .map(([state]) => state as OrderSagaState);

/**
 * Whether the order has ended cancelled, or is on its way there whatever happens next: it is in
 * `cancelled` (any outcome: cancelled, expired, declined, compensated), in a CANCEL_BOUND_STATES
 * state, or still reserving with a cancel remembered (the machine's `cancelWasRequested` guard
 * sends it to releasingSeats or cancelled, never on to payment). The one meaning of "cancelled or
 * cancelling" for the API's idempotent cancel and the operators' compensate.
 */
export function endsCancelled(saga: Pick<PersistedSaga, 'state' | 'context'>): boolean {
  if (saga.state === 'cancelled' || CANCEL_BOUND_STATES.includes(saga.state)) return true;
  return saga.state === 'reserving' && saga.context.cancelRequested !== null;
}
