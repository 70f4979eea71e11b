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
