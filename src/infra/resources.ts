/**
 * Table and queue names, from the one definition file init-scripts/resources.json, with the
 * configured prefix applied.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import definitions from '../../init-scripts/resources.json';

export type TableKey =
  'events' | 'orders' | 'inventory' | 'reservations' | 'payments' | 'notifications' | 'orderNumbers';
export type QueueKey = 'inventory' | 'payment' | 'notification' | 'timer' | 'saga' | 'dlq' | 'dlqFifo';

const TABLE_BASE_NAMES: Record<TableKey, string> = {
  events: 'Events',
  orders: 'TicketOrders',
  inventory: 'TicketInventory',
  reservations: 'TicketReservations',
  payments: 'Payments',
  notifications: 'Notifications',
  orderNumbers: 'OrderNumbers',
};

const QUEUE_BASE_NAMES: Record<QueueKey, string> = {
  inventory: 'ticket-order-queue',
  payment: 'ticket-payment-queue',
  notification: 'ticket-notification-queue',
  timer: 'ticket-timer-queue',
  saga: 'ticket-order-fifo.fifo',
  dlq: 'ticket-dlq',
  dlqFifo: 'ticket-dlq.fifo',
};

export interface QueueDefinition {
  QueueName: string;
  Attributes: Record<string, string>;
  DeadLetterQueue?: string;
}

export interface ResourceNames {
  tables: Record<TableKey, string>;
  queues: Record<QueueKey, string>;
}

export function resourceNames(prefix: string): ResourceNames {
  const map = <K extends string>(base: Record<K, string>) =>
    Object.fromEntries(Object.entries(base).map(([k, v]) => [k, `${prefix}${v as string}`])) as Record<K, string>;
  return { tables: map(TABLE_BASE_NAMES), queues: map(QUEUE_BASE_NAMES) };
}

export function tableDefinitions(prefix: string): CreateTableCommandInput[] {
  return (definitions.tables as unknown as CreateTableCommandInput[]).map((t) => ({
    ...t,
    TableName: `${prefix}${t.TableName}`,
  }));
}

export function queueDefinitions(prefix: string): QueueDefinition[] {
  return (definitions.queues as unknown as QueueDefinition[]).map((q) => ({
    ...q,
    QueueName: `${prefix}${q.QueueName}`,
    DeadLetterQueue: q.DeadLetterQueue === undefined ? undefined : `${prefix}${q.DeadLetterQueue}`,
  }));
}

export const REDRIVE_MAX_RECEIVE_COUNT: number = definitions.redrive.maxReceiveCount;
