/**
 * The machine as data for people: its states (nested ones included), the transitions each accepts,
 * and the commands each sends on entry. Read from the machine itself (XState's StateNode tree), so
 * the diagram, the machine page and the "remaining steps" never restate it by hand.
 */
import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** One state of the machine. `id` is its path joined by '.', e.g. `reserving` or `parent.child`. */
export interface ModelState {
  id: string;
  /** The last segment of the path: what the diagram writes on the box. */
  name: string;
  parent: string | null;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** The child entered first (compound states), as a state id. */
  initial: string | null;
  /** Kinds of the commands sent on entry (the `command` actions' params), in order. */
  entryCommands: string[];
}

/** One transition: `target` null for a transition that stays (actions only). */
export interface ModelTransition {
  /** Stable: `source:EVENT:target` (`source:EVENT:-` when it stays), with `#n` on the rare repeat. */
  id: string;
  source: string;
  event: string;
  target: string | null;
  guard: string | null;
  actions: string[];
}

export interface MachineModel {
  id: string;
  /** The top-level initial state. */
  initial: string;
  states: ModelState[];
  transitions: ModelTransition[];
  finalStates: string[];
}

type ActionLike = { type?: unknown; params?: unknown } | ((...args: unknown[]) => unknown) | string;

function actionName(action: ActionLike): string {
  if (typeof action === 'string') return action;
  const type = (action as { type?: unknown }).type;
  return typeof type === 'string' ? type : 'inline';
}

function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  const type = (guard as { type?: unknown }).type;
  return typeof type === 'string' ? type : 'inline';
}

/**
 * The kinds of the `command` actions in `entry`. Their params are functions of the context, so
 * each is evaluated on `sampleContext` and only its `kind` is kept.
 */
function commandKinds(entry: readonly ActionLike[], sampleContext: unknown): string[] {
  const kinds: string[] = [];
  for (const action of entry) {
    if (typeof action !== 'object' || action === null || action.type !== 'command') continue;
    const params =
      typeof action.params === 'function'
        ? (action.params as (a: unknown) => unknown)({ context: sampleContext })
        : action.params;
    const kind = (params as { kind?: unknown } | undefined)?.kind;
    if (typeof kind === 'string') kinds.push(kind);
  }
  return kinds;
}

const pathId = (node: AnyStateNode): string => node.path.join('.');

/** Builds the model of `machine`; `sampleContext` is any context its entry params can read. */
export function machineModel(machine: AnyStateMachine, sampleContext: unknown): MachineModel {
  const states: ModelState[] = [];
  const transitions: ModelTransition[] = [];
  const seen = new Map<string, number>();
  const visit = (node: AnyStateNode, parent: string | null): void => {
    const id = pathId(node);
    const children = Object.values(node.states) as AnyStateNode[];
    states.push({
      id,
      name: node.key,
      parent,
      type: node.type,
      initial: node.initial?.target?.[0] ? pathId(node.initial.target[0]) : null,
      entryCommands: commandKinds(node.entry as ActionLike[], sampleContext),
    });
    for (const [event, list] of node.transitions) {
      for (const t of list) {
        const targets: readonly AnyStateNode[] = t.target ?? [];
        const target = targets[0] ? pathId(targets[0]) : null;
        const base = `${id}:${event}:${target ?? '-'}`;
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        transitions.push({
          id: n === 1 ? base : `${base}#${n}`,
          source: id,
          event,
          target,
          guard: guardName(t.guard),
          actions: (t.actions as ActionLike[]).map(actionName),
        });
      }
    }
    for (const child of children) visit(child, id);
  };
  for (const child of Object.values(machine.root.states) as AnyStateNode[]) visit(child, null);
  const initial = machine.root.initial?.target?.[0];
  return {
    id: machine.id,
    initial: initial ? pathId(initial) : (states[0]?.id ?? ''),
    states,
    transitions,
    finalStates: states.filter((s) => s.type === 'final').map((s) => s.id),
  };
}

/** The state and its ancestors, innermost first: where an event is looked up. */
export function ancestry(model: MachineModel, stateId: string): string[] {
  const byId = new Map(model.states.map((s) => [s.id, s]));
  const out: string[] = [];
  for (let s = byId.get(stateId); s; s = s.parent === null ? undefined : byId.get(s.parent)) out.push(s.id);
  return out;
}

/** The transitions a state accepts (its own first, then its ancestors'). */
export function acceptedTransitions(model: MachineModel, stateId: string): ModelTransition[] {
  const chain = ancestry(model, stateId);
  return chain.flatMap((id) => model.transitions.filter((t) => t.source === id));
}

/** The atomic state a transition into `stateId` ends in: a compound state's initial child, down. */
export function settle(model: MachineModel, stateId: string): string {
  const byId = new Map(model.states.map((s) => [s.id, s]));
  let s = byId.get(stateId);
  while (s && s.initial) s = byId.get(s.initial);
  return s?.id ?? stateId;
}

/** A path: the transitions taken, in order. */
export type ModelPath = ModelTransition[];

/**
 * Every simple path (no state twice) from `from` to each final state, over the transitions that
 * change state, guards not evaluated (each step names its guard). At most `limit` paths per final
 * state, shortest first. Returns a map final state → paths; a final state not reachable has [].
 */
export function pathsToFinals(model: MachineModel, from: string, limit = 10): Map<string, ModelPath[]> {
  const result = new Map<string, ModelPath[]>(model.finalStates.map((f) => [f, []]));
  const walk = (state: string, visited: Set<string>, path: ModelPath): void => {
    if (model.finalStates.includes(state)) {
      const list = result.get(state);
      if (list) list.push([...path]);
      return;
    }
    for (const t of acceptedTransitions(model, state)) {
      if (t.target === null) continue;
      const next = settle(model, t.target);
      if (visited.has(next)) continue;
      visited.add(next);
      path.push(t);
      walk(next, visited, path);
      path.pop();
      visited.delete(next);
    }
  };
  walk(from, new Set([from]), []);
  for (const [final, paths] of result) {
    paths.sort((a, b) => a.length - b.length);
    result.set(final, paths.slice(0, limit));
  }
  return result;
}
