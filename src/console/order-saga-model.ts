/** The order saga's machine model, built once (the machine is static). */
import { orderSagaMachine, type OrderSagaContext } from '../../machines/order-saga';
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
  outcome: null,
  failureReason: null,
};

let model: MachineModel | undefined;

export function orderSagaModel(): MachineModel {
  model ??= machineModel(orderSagaMachine, SAMPLE_CONTEXT);
  return model;
}
