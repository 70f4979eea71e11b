/**
 * The order saga's machine model and diagram layout, per machine version (machines/order-saga/
 * registry.ts): a saga is drawn, and its remaining steps computed, on the version it runs on.
 * Built once per version (a version is static).
 */
import { machineVersion, START_VERSION, type OrderSagaContext } from '../../machines/order-saga';
import { layoutDiagram, type DiagramLayout } from './diagram';
import { machineModel, type MachineModel } from './machine-model';

/** A context every entry action of the order saga can read: only the commands' kinds are kept. */
const SAMPLE_CONTEXT: OrderSagaContext = {
  orderId: 'o',
  customerId: 'c',
  eventId: 'e',
  items: [{ ticketType: 't', quantity: 1 }],
  paymentToken: 'p',
  holdSeconds: 60,
  reservation: { reservationId: 'r', expiresAt: '2000-01-01T00:00:00.000Z', amountMinor: 0, currency: 'EUR' },
  payment: { state: 'captured', paymentId: 'p', reason: null },
  refund: null,
  cancelRequested: null,
  // Final states announce the decided outcome (machines/order-saga/outcome.ts asserts there is one).
  outcome: 'cancelled',
  failureReason: null,
};

const models = new Map<string, MachineModel>();
const layouts = new Map<string, Promise<DiagramLayout>>();

/**
 * The model of machine `version` (default: the version new orders start on).
 * Throws UnknownMachineVersionError when this build does not have the version.
 */
export function orderSagaModel(version: string = START_VERSION): MachineModel {
  let model = models.get(version);
  if (!model) {
    model = machineModel(machineVersion(version).machine, SAMPLE_CONTEXT);
    models.set(version, model);
  }
  return model;
}

/** The diagram layout of machine `version`, computed once per process. Throws as orderSagaModel. */
export function orderSagaLayout(version: string = START_VERSION): Promise<DiagramLayout> {
  let layout = layouts.get(version);
  if (!layout) {
    layout = layoutDiagram(orderSagaModel(version));
    layouts.set(version, layout);
  }
  return layout;
}
