/**
 * The saga participants: command in, effect in DynamoDB, reply event out. This door exports what
 * the rest of src/ uses; a test of one participant imports that participant's module.
 */
import type { OrderSagaEvent } from '../../machines/order-saga/types';
import type { ParticipantCommand } from './commands';
import type { ParticipantDeps } from './deps';
import { handleInventoryCommand } from './inventory';
import { handleNotificationCommand } from './notification';
import { handlePaymentCommand } from './payment';

export * from './commands';
export * from './errors';
export type { ParticipantDeps } from './deps';
export { putEventInventory, getEventInventory } from './inventory-admin';
export { assignEventOwner, ensureMayChangeEvent, EventOwnershipError } from './event-owner';
export type { EventWriter } from './event-owner';
export type { EventInventory, InventoryAdminDeps, TicketTypeInput, TicketTypeInventory } from './inventory-admin';
export type { InventoryRow, NotificationRecord, PaymentRecord, PaymentStatus, ReservationRecord } from './records';
export { readInventoryRows } from './records';
export { InventoryCatalog } from './inventory-catalog';

/** Routes a command to its participant. */
export async function handleParticipantCommand(
  cmd: ParticipantCommand,
  deps: ParticipantDeps,
): Promise<OrderSagaEvent> {
  switch (cmd.kind) {
    case 'ReserveSeats':
    case 'ConfirmSeats':
    case 'ReleaseSeats':
      return handleInventoryCommand(cmd, deps);
    case 'ChargePayment':
    case 'VoidPayment':
    case 'RefundPayment':
      return handlePaymentCommand(cmd, deps);
    case 'SendNotification':
    case 'SendHoldReminder':
      return handleNotificationCommand(cmd, deps);
  }
}
