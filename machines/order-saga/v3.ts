/**
 * Order-saga machine version 3: v2 plus a reminder before the hold expires.
 *
 * The product change: a customer whose payment is still out when the hold nears its end is told
 * when the seats will be let go. On entering awaitingPayment the saga also schedules a durable
 * timer (ScheduleHoldReminder, due `reminderLeadSeconds` before the hold expires); when it fires
 * (HOLD_REMINDER_DUE) while the saga still awaits payment, it sends SendHoldReminder once. The
 * participant answers HOLD_REMINDER_SENT, which no state waits on (the reminder is best effort:
 * nothing else depends on it). Every other state and transition is v2's.
 *
 * Built from v2's definition and implementations (machine.ts), so a change there shows here too;
 * once v3 is released it is frozen like v2 (the fingerprint pinned in registry.ts).
 */
import { assign, createMachine, type MachineConfig } from 'xstate';
import { command, orderSagaMachine as v2, type OrderSagaMachine } from './machine';
import { ignore, ignoredBy } from './ignores';
import { heldReservation, SagaInvariantError } from './outcome';
import type { OrderSagaContext, OrderSagaEvent } from './types';

export const ORDER_SAGA_V3_VERSION = '3';

/** How long before the hold expires the reminder is due: 120 s, or half the hold when shorter (s). */
export function reminderLeadSeconds(holdSeconds: number): number {
  return Math.min(120, Math.floor(holdSeconds / 2));
}

/**
 * When the reminder is due (ISO-8601), from the reservation's expiry.
 * @throws SagaInvariantError without a reservation, or with an expiry that is not a date.
 */
export function reminderDueAt(context: OrderSagaContext): string {
  const expiresAt = Date.parse(heldReservation(context, 'awaitingPayment').expiresAt);
  if (Number.isNaN(expiresAt)) {
    throw new SagaInvariantError(`order ${context.orderId}: the hold's expiry is not a date`);
  }
  return new Date(expiresAt - reminderLeadSeconds(context.holdSeconds) * 1000).toISOString();
}

type Config = MachineConfig<OrderSagaContext, OrderSagaEvent>;
type StateConfig = NonNullable<Config['states']>[string];
type Ctx = { context: OrderSagaContext };

const base = v2.config as unknown as Config;
const awaitingPayment = base.states?.awaitingPayment as StateConfig;
const toArray = <T>(value: T | readonly T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? [...value] : [value as T];

/**
 * v2's states, each also ignoring the reminder's reply (best effort: nothing waits on it) and, but
 * for awaitingPayment, a reminder timer that fires after the saga moved on.
 */
const withReminderIgnored = Object.fromEntries(
  Object.entries(base.states ?? {}).map(([name, state]) => {
    const late =
      name === 'awaitingPayment'
        ? ['HOLD_REMINDER_SENT' as const]
        : ['HOLD_REMINDER_DUE' as const, 'HOLD_REMINDER_SENT' as const];
    return [name, { ...state, meta: ignore(...ignoredBy(state.meta), ...late) }];
  }),
);

const config: Config = {
  ...base,
  states: {
    ...withReminderIgnored,
    awaitingPayment: {
      ...withReminderIgnored.awaitingPayment,
      entry: [
        ...toArray(awaitingPayment.entry),
        {
          type: 'command',
          params: ({ context }: Ctx) =>
            command(context, { kind: 'ScheduleHoldReminder', dueAt: reminderDueAt(context) }),
        },
      ],
      on: {
        ...awaitingPayment.on,
        HOLD_REMINDER_DUE: {
          guard: ({ context }: Ctx) => context.holdReminderSent !== true,
          actions: [
            assign({ holdReminderSent: true }),
            {
              type: 'command',
              params: ({ context }: Ctx) =>
                command(context, {
                  kind: 'SendHoldReminder',
                  customerId: context.customerId,
                  template: 'hold-reminder',
                  expiresAt: heldReservation(context, 'awaitingPayment').expiresAt,
                }),
            },
          ],
        },
      },
    },
  },
};

/** The v3 machine: same context, events, commands and implementations as v2. */
export const orderSagaV3Machine = createMachine(config, v2.implementations as never) as unknown as OrderSagaMachine;

export const ORDER_SAGA_V3: { version: string; machine: OrderSagaMachine } = {
  version: ORDER_SAGA_V3_VERSION,
  machine: orderSagaV3Machine,
};
