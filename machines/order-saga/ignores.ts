/**
 * What each state expects and leaves alone, as MassTransit's `Ignore(...)` says it per state.
 *
 * SQS delivers at least once and out of order, so a state meets replies it no longer waits for: a
 * duplicate of the reply that moved the saga on, a timer that fires after payment, a payment
 * answer that VoidPayment will report again. A state lists them in its `meta.ignores`; the
 * decider (decide.ts) calls an event *expected* when the state has a transition for it or lists
 * it, and the runtime logs any other event that changes nothing at warn, with the state: it means
 * a participant or a timer did something no state foresaw.
 *
 * Ignoring is the machine's default for an unlisted event too (XState drops it); the list is what
 * makes the difference between "foreseen" and "surprising" visible, in the code, in the inspector
 * (state meta) and in the logs.
 */
import type { OrderSagaEventType } from './types';

/** A state's meta: the events it expects and ignores. */
export interface IgnoresMeta {
  ignores: readonly OrderSagaEventType[];
}

/** `meta` for a state that expects and ignores `events`. */
export function ignore(...events: OrderSagaEventType[]): IgnoresMeta {
  return { ignores: events };
}

/** The events a state's meta lists as ignored ([] when it lists none). */
export function ignoredBy(meta: unknown): readonly OrderSagaEventType[] {
  const ignores = (meta as Partial<IgnoresMeta> | undefined)?.ignores;
  return Array.isArray(ignores) ? (ignores as readonly OrderSagaEventType[]) : [];
}
