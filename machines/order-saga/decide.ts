/**
 * The saga as two pure functions: start and apply. They run the machine with XState's pure
 * `initialTransition` / `transition` (nothing executes) and hand back the next snapshot and the
 * commands to send. The runtime persists the one and dispatches the other.
 *
 * A saga runs on the machine version it started with: `startSaga` records the version in the
 * snapshot, and `applyEvent` / `accepts` restore the snapshot with that version's machine from the
 * registry. `deciderFor` does the same for any machine (npm run replay's candidates).
 */
import { initialTransition, transition } from 'xstate';
import type { OrderSagaMachine } from './machine';
import { MACHINE_VERSIONS, machineVersion, START_VERSION, type MachineVersion } from './registry';
import { ignoredBy } from './ignores';
import { isOrderSagaState, orderStatusOf, type OrderSagaState } from './status';
import type {
  OrderSagaContext,
  OrderSagaEvent,
  OrderSagaEventType,
  OrderSagaInput,
  OrderStatus,
  SagaCommand,
} from './types';

export { UnknownMachineVersionError } from './registry';

/** What is stored: enough to resume, nothing that belongs to one process. */
export interface PersistedSaga {
  /** The machine version the saga started on, and runs on to its end (registry.ts). */
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

/** One event's decision: `changed` (anything to persist) and `expected` (see Decider.apply). */
export type AppliedDecision = Decision & { changed: boolean; expected: boolean };

/** A machine and the version it is stored as. */
export type VersionedMachine = Pick<MachineVersion, 'version' | 'machine'>;

type MachineSnapshot = ReturnType<OrderSagaMachine['resolveState']>;
type MachineAction = { type: string; params?: unknown };

/** The three decisions, for one machine version. */
export interface Decider {
  version: string;
  start(input: OrderSagaInput): Decision;
  /**
   * Applies one event. `changed` is false when the machine ignores the event in this state: nothing
   * is persisted then. `expected` says whether the state foresaw the event (a transition for it, or
   * its `meta.ignores`: a late or duplicate reply; ignores.ts); an unchanged, unexpected event is
   * one no state foresaw, which the runtime logs at warn.
   * @throws UnknownMachineVersionError when `saga` was not written by this decider's version.
   * @throws SagaInvariantError (outcome.ts) when the machine meets a context its transitions rule out.
   */
  apply(saga: PersistedSaga, event: OrderSagaEvent): AppliedDecision;
  /** Whether the machine would react to this event now (the API's 409 check). */
  accepts(saga: PersistedSaga, event: OrderSagaEvent): boolean;
}

function commandsOf(actions: readonly MachineAction[]): SagaCommand[] {
  return actions.filter((a) => a.type === 'command').map((a) => a.params as SagaCommand);
}

function stateOf(snapshot: MachineSnapshot): OrderSagaState {
  const state = snapshot.value;
  if (!isOrderSagaState(state)) throw new Error(`order-saga reached an unmapped state ${JSON.stringify(state)}`);
  return state;
}

/** Decisions made by `entry.machine`, stored as `entry.version`. */
export function deciderFor(entry: VersionedMachine): Decider {
  const { version, machine } = entry;

  /** A new state waits on the commands it just sent; staying put adds to what it already waits on. */
  const decision = (
    snapshot: MachineSnapshot,
    actions: readonly MachineAction[],
    previous?: PersistedSaga,
  ): Decision => {
    const state = stateOf(snapshot);
    const commands = commandsOf(actions);
    const outbox = previous && previous.state === state ? [...previous.outbox, ...commands] : commands;
    const saga: PersistedSaga = { machineVersion: version, state, context: snapshot.context, outbox };
    return { saga, status: orderStatusOf(state), done: snapshot.status === 'done', commands };
  };

  const restore = (saga: PersistedSaga): MachineSnapshot => {
    if (saga.machineVersion !== version) {
      throw new Error(`a version ${saga.machineVersion} saga was handed to the version ${version} machine`);
    }
    return machine.resolveState({ value: saga.state, context: saga.context });
  };

  /** Whether `state` expects events of `type`: a transition for them, or its meta lists them as ignored. */
  const expects = (state: OrderSagaState, type: OrderSagaEventType): boolean => {
    const node = machine.root.states[state];
    return node !== undefined && (node.on[type] !== undefined || ignoredBy(node.meta).includes(type));
  };

  return {
    version,
    start(input) {
      const [snapshot, actions] = initialTransition(machine, input);
      return decision(snapshot, actions);
    },
    apply(saga, event) {
      const [snapshot, actions] = transition(machine, restore(saga), event);
      const next = decision(snapshot, actions, saga);
      const changed =
        next.saga.state !== saga.state || JSON.stringify(next.saga.context) !== JSON.stringify(saga.context);
      return { ...next, changed, expected: changed || expects(saga.state, event.type) };
    },
    accepts(saga, event) {
      return restore(saga).can(event);
    },
  };
}

const deciders = new Map<string, Decider>();

/** The decider of a registered version. @throws UnknownMachineVersionError when this build lacks it. */
export function deciderOf(version: string): Decider {
  let decider = deciders.get(version);
  if (!decider) {
    decider = deciderFor(machineVersion(version));
    deciders.set(version, decider);
  }
  return decider;
}

/**
 * Starts a saga on `version` (default: the registry's START_VERSION).
 * @throws UnknownMachineVersionError when this build lacks that version.
 */
export function startSaga(input: OrderSagaInput, version: string = START_VERSION): Decision {
  return deciderOf(version).start(input);
}

/**
 * Applies one event with the machine of the version the saga runs on.
 * @throws UnknownMachineVersionError when this build lacks that version.
 */
export function applyEvent(saga: PersistedSaga, event: OrderSagaEvent): AppliedDecision {
  return deciderOf(saga.machineVersion).apply(saga, event);
}

/**
 * Whether the saga's own machine version would react to this event now (the API's 409 check).
 * @throws UnknownMachineVersionError when this build lacks that version.
 */
export function accepts(saga: PersistedSaga, event: OrderSagaEvent): boolean {
  return deciderOf(saga.machineVersion).accepts(saga, event);
}

/** The final states reachable from each state, read from a machine's own transitions. */
function reachableFinals(machine: OrderSagaMachine): Record<OrderSagaState, Set<OrderSagaState>> {
  const nodes = machine.root.states;
  const next = (state: string): string[] =>
    [...nodes[state].transitions.values()].flat().flatMap((t) => (t.target ?? []).map((n) => n.key));
  const out = {} as Record<OrderSagaState, Set<OrderSagaState>>;
  for (const start of Object.keys(nodes)) {
    if (!isOrderSagaState(start)) continue;
    const seen = new Set<string>([start]);
    const queue: string[] = [start];
    const finals = new Set<OrderSagaState>();
    while (queue.length > 0) {
      const state = queue.shift()!;
      if (isOrderSagaState(state) && nodes[state].type === 'final') finals.add(state);
      for (const to of next(state)) {
        if (seen.has(to)) continue;
        seen.add(to);
        queue.push(to);
      }
    }
    out[start] = finals;
  }
  return out;
}

/**
 * The states from which every path ends in `cancelled` (releasingSeats, settlingPayment, refunding),
 * derived from the machine's transitions so that a new state or transition changes it with them.
 */
export const CANCEL_BOUND_STATES: readonly OrderSagaState[] = cancelBoundInEveryVersion();

/** The states cancel-bound in every registered version that has them (a saga may run on any). */
function cancelBoundInEveryVersion(): OrderSagaState[] {
  const perVersion = MACHINE_VERSIONS.map((v) => reachableFinals(v.machine));
  const states = new Set(perVersion.flatMap((finals) => Object.keys(finals) as OrderSagaState[]));
  return [...states].filter(
    (state) =>
      state !== 'cancelled' &&
      perVersion.every(
        (finals) => finals[state] === undefined || (finals[state].size === 1 && finals[state].has('cancelled')),
      ),
  );
}

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
