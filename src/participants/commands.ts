/** The saga commands each participant handles. */
import type { SagaCommand, SagaCommandKind } from '../../machines/order-saga/types';

export type CommandOf<K extends SagaCommandKind> = Extract<SagaCommand, { kind: K }>;

export type ReserveSeats = CommandOf<'ReserveSeats'>;
export type ConfirmSeats = CommandOf<'ConfirmSeats'>;
export type ReleaseSeats = CommandOf<'ReleaseSeats'>;
export type ChargePayment = CommandOf<'ChargePayment'>;
export type VoidPayment = CommandOf<'VoidPayment'>;
export type RefundPayment = CommandOf<'RefundPayment'>;
export type SendNotification = CommandOf<'SendNotification'>;
export type SendHoldReminder = CommandOf<'SendHoldReminder'>;

export type InventoryCommand = ReserveSeats | ConfirmSeats | ReleaseSeats;
export type PaymentCommand = ChargePayment | VoidPayment | RefundPayment;
export type NotificationCommand = SendNotification | SendHoldReminder;
export type ParticipantCommand = InventoryCommand | PaymentCommand | NotificationCommand;
