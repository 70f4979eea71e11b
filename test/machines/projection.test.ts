/** Which saga steps write the order item at once (machines/order-saga/projection.ts), as a pure rule. */
import {
  FINAL_STATES,
  ORDER_STATUS_BY_STATE,
  stepNeedsProjection,
  type OrderSagaState,
} from '../../machines/order-saga';

const STATES = Object.keys(ORDER_STATUS_BY_STATE) as OrderSagaState[];

it('leaves only confirming → notifying (status unchanged, CONFIRMED) unprojected', () => {
  const skipped = STATES.flatMap((from) =>
    STATES.filter((to) => !stepNeedsProjection(from, to)).map((to) => `${from}>${to}`),
  );
  expect(skipped).toEqual(['confirming>notifying']);
});

it('projects every step into a final state, every status change and every state it does not know', () => {
  for (const from of STATES) {
    for (const to of FINAL_STATES) expect(stepNeedsProjection(from, to)).toBe(true);
    for (const to of STATES)
      if (ORDER_STATUS_BY_STATE[from] !== ORDER_STATUS_BY_STATE[to]) expect(stepNeedsProjection(from, to)).toBe(true);
  }
  expect(stepNeedsProjection('confirming', 'somewhereNew')).toBe(true);
  expect(stepNeedsProjection('somewhereOld', 'notifying')).toBe(true);
});

it('never leaves two steps in a row unprojected: an item lags at most one version by this rule', () => {
  for (const a of STATES)
    for (const b of STATES)
      for (const c of STATES) expect(!stepNeedsProjection(a, b) && !stepNeedsProjection(b, c)).toBe(false);
});
