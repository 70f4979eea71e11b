/**
 * The one history fold: how a saga's recorded history (its Events rows) reads as machine events.
 * Pure; used by the console's replay (src/console/replay.ts: the context at every step) and the
 * operator's replay before deploy (src/ops/replay.ts: a candidate machine against the recording),
 * so "is this row a machine event" and "which event does it carry" are answered once.
 */
import { sagaEventSchemas } from './schemas';
import type { OrderSagaEvent } from './types';

/** An Events row as the fold reads it (src/store's SagaHistoryEntry has these fields and more). */
export interface HistoryRow {
  /** The saga version the row made (1 = ORDER_PLACED). */
  version: number;
  eventType: string;
  /** The event without its `type` (src/store/saga-store.ts eventPayload). */
  payload: Record<string, unknown>;
}

/** One row of the fold: the row, and the machine event it carries (null: not a machine event). */
export interface HistoryStep<R extends HistoryRow> {
  row: R;
  event: OrderSagaEvent | null;
}

/**
 * Whether an Events row's type is an event of the machine (its schemas, machines/order-saga/schemas.ts).
 * The others record, not step: ORDER_PLACED starts the saga, OPERATOR_RETRY records an action,
 * MACHINE_MIGRATED a move to another machine version.
 */
export function isMachineEventType(type: string): type is OrderSagaEvent['type'] {
  return Object.prototype.hasOwnProperty.call(sagaEventSchemas, type);
}

/** The machine event a row carries (its payload with its type), or null when it is not one. */
export function machineEventOf(row: HistoryRow): OrderSagaEvent | null {
  return isMachineEventType(row.eventType) ? ({ ...row.payload, type: row.eventType } as OrderSagaEvent) : null;
}

/** The history in version order (any order given), each row with the machine event it carries. */
export function historySteps<R extends HistoryRow>(rows: readonly R[]): Array<HistoryStep<R>> {
  return [...rows].sort((a, b) => a.version - b.version).map((row) => ({ row, event: machineEventOf(row) }));
}
