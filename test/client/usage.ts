/**
 * A client written against the types openapi-typescript generates from the live document
 * (npm run check:client, scripts/check-client.ts: generated/openapi.d.ts, then `tsc -p` here).
 * It compiles only while the document says what a client team relies on: the three 202 answers
 * of POST /orders told apart by `status`, the guards' problems, health's DOWN report, the SSE
 * events' data. The @ts-expect-error lines prove the types are precise (not `any`): each must be
 * an error, or tsc fails.
 */
import type { components, operations, paths } from './generated/openapi';

type Schemas = components['schemas'];
type PlaceAnswer = operations['postOrders']['responses'][202]['content']['application/json'];
type PlaceBody = NonNullable<operations['postOrders']['requestBody']>['content']['application/json'];

/** What a buyer's app shows after placing an order. */
export function describePlaced(answer: PlaceAnswer): string {
  switch (answer.status) {
    case 'PENDING':
      return `order ${answer.orderNumber ?? answer.orderId} is ${answer.sagaState}`;
    case 'QUEUED':
      return `in the waiting room: place ${answer.position}, about ${answer.estimatedWaitSeconds} s (${answer.links.queue})`;
    case 'CANCELLED':
      return `order ${answer.orderId} was cancelled while it waited`;
  }
}

export function queuedPosition(answer: PlaceAnswer): number {
  // @ts-expect-error `position` exists on the QUEUED answer only: narrow on `status` first.
  return answer.position;
}

export const body: PlaceBody = {
  eventId: 'evt-1',
  items: [{ ticketType: 'GA', quantity: 2 }],
  paymentToken: 'tok_visa',
};
// @ts-expect-error the request body needs its paymentToken.
export const bodyWithoutToken: PlaceBody = { eventId: 'evt-1', items: [{ ticketType: 'GA', quantity: 2 }] };

/** The guards' problems, each with its pinned type. */
export function explain(
  problem:
    | operations['postOrders']['responses'][401]['content']['application/problem+json']
    | operations['postOrders']['responses'][403]['content']['application/problem+json']
    | operations['postOrders']['responses'][429]['content']['application/problem+json'],
): string {
  return `${problem.status} ${problem.title}: ${problem.detail}`;
}

/** Health: 200 UP/DEGRADED, 503 DOWN with the failing components (application/json, not a problem). */
export function downComponents(
  report: operations['getActuatorHealth']['responses'][503]['content']['application/json'],
): string[] {
  const down: 'DOWN' = report.status;
  return Object.entries(report.components)
    .filter(([, c]) => c.status === down)
    .map(([name, c]) => `${name}: ${c.error ?? 'down'}`);
}

/** The saga stream's events (text/event-stream; their data schemas are components). */
export function onStreamEvent(name: string, data: string): string {
  if (name === 'step') {
    const step = JSON.parse(data) as Schemas['SagaStepEvent'];
    return `v${step.version} ${step.fromState ?? '∅'} → ${step.toState} (${step.saga.state})`;
  }
  if (name === 'saga') {
    const saga = JSON.parse(data) as Schemas['SagaListEvent'];
    return `${saga.orderId} v${saga.version} ${saga.status}`;
  }
  if (name === 'token-expired') return (JSON.parse(data) as Schemas['StreamTokenExpiredEvent']).detail;
  return name;
}

/** Every protected operation names the bearer scheme; the path parameters are typed. */
export type SagaPath = paths['/sagas/{orderId}']['get']['parameters']['path'];
export const sagaPath: SagaPath = { orderId: '0f8fad5b-d9cb-469f-a165-70867728950e' };
// @ts-expect-error the saga read takes its order id, nothing else.
export const wrongPath: SagaPath = { id: 'x' };
