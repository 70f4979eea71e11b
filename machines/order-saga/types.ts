/**
 * The order saga's vocabulary: what it is started with, what it remembers, the events it
 * reacts to and the commands it asks the runtime to send. Pure data, JSON-serialisable.
 */

export type OrderStatus = 'PENDING' | 'PROCESSING' | 'CONFIRMED' | 'COMPLETED' | 'CANCELLED' | 'FAILED';
export type ReservationStatus = 'ACTIVE' | 'CONFIRMED' | 'RELEASED' | 'EXPIRED' | 'REJECTED';

export interface OrderItem {
  ticketType: string;
  quantity: number;
}

export interface OrderSagaInput {
  orderId: string;
  customerId: string;
  eventId: string;
  items: OrderItem[];
  paymentToken: string;
  holdSeconds: number;
}

/** Why a saga that did not complete ended the way it did. */
export type SagaOutcome = 'completed' | 'sold-out' | 'declined' | 'cancelled' | 'expired' | 'compensated';

/** What the customer is told at the end: the order went through, was cancelled, or failed. */
export type NotificationTemplate = 'order-completed' | 'order-cancelled' | 'order-failed';

/** What a customer is told while the order is still open (machine v3): the hold is about to expire. */
export type ReminderTemplate = 'hold-reminder';

export interface Actor {
  by: string;
  reason: string;
}

export interface OrderSagaContext extends OrderSagaInput {
  /** `amountMinor`: the order's total in the currency's minor units (ISO 4217 exponent). */
  reservation: { reservationId: string; expiresAt: string; amountMinor: number; currency: string } | null;
  /** What the saga knows of the charge: 'none' until one is requested. */
  payment: { state: 'none' | 'requested' | 'captured' | 'declined'; paymentId: string | null; reason: string | null };
  refund: { refundId: string; amountMinor: number } | null;
  /** A cancel that arrived while seats were still being reserved, applied once they are. */
  cancelRequested: Actor | null;
  outcome: SagaOutcome | null;
  failureReason: string | null;
  /** Machine v3: the customer was reminded that the hold is about to expire (absent before v3). */
  holdReminderSent?: boolean;
}

export type OrderSagaEvent =
  | { type: 'SEATS_RESERVED'; reservationId: string; expiresAt: string; amountMinor: number; currency: string }
  | { type: 'SEATS_UNAVAILABLE'; reason: string }
  | { type: 'PAYMENT_CAPTURED'; paymentId: string; amountMinor: number; currency: string }
  | { type: 'PAYMENT_DECLINED'; reason: string }
  | { type: 'HOLD_EXPIRED' }
  | { type: 'CANCEL_REQUESTED'; by: string; reason: string }
  | { type: 'OPERATOR_COMPENSATE'; by: string; reason: string }
  | { type: 'SEATS_RELEASED' }
  | { type: 'SEATS_CONFIRMED' }
  | { type: 'REFUND_ISSUED'; refundId: string; amountMinor: number }
  | { type: 'NOTIFICATION_SENT'; notificationId: string }
  /** Machine v3: the reminder timer fired (the hold expires soon). */
  | { type: 'HOLD_REMINDER_DUE' }
  /** Machine v3: the notification participant sent the reminder. */
  | { type: 'HOLD_REMINDER_SENT'; notificationId: string };

export type OrderSagaEventType = OrderSagaEvent['type'];

interface CommandBase {
  /** Deterministic (`orderId:kind`), so a re-sent command is the same command. */
  commandId: string;
  orderId: string;
}

export type SagaCommand =
  | (CommandBase & { kind: 'ReserveSeats'; eventId: string; items: OrderItem[]; holdSeconds: number })
  | (CommandBase & { kind: 'ChargePayment'; amountMinor: number; currency: string; paymentToken: string })
  | (CommandBase & { kind: 'ScheduleHoldExpiry'; dueAt: string })
  | (CommandBase & { kind: 'ConfirmSeats'; reservationId: string })
  | (CommandBase & { kind: 'ReleaseSeats'; reservationId: string; releaseAs: 'RELEASED' | 'EXPIRED' })
  | (CommandBase & { kind: 'VoidPayment' })
  | (CommandBase & { kind: 'RefundPayment'; paymentId: string; amountMinor: number; currency: string })
  | (CommandBase & {
      kind: 'SendNotification';
      customerId: string;
      template: NotificationTemplate;
      outcome: SagaOutcome;
    })
  /** Machine v3: a durable timer that raises HOLD_REMINDER_DUE at dueAt. */
  | (CommandBase & { kind: 'ScheduleHoldReminder'; dueAt: string })
  /** Machine v3: tell the customer the hold expires at expiresAt; answered by HOLD_REMINDER_SENT. */
  | (CommandBase & { kind: 'SendHoldReminder'; customerId: string; template: ReminderTemplate; expiresAt: string });

export type SagaCommandKind = SagaCommand['kind'];

/** A command without the ids the helper fills in. */
export type CommandRequest = SagaCommand extends infer C
  ? C extends SagaCommand
    ? Omit<C, 'commandId' | 'orderId'>
    : never
  : never;
