/** The machine model and its diagram, pure: ids, nesting, remaining paths. */
import { moneyText } from '../../src/console/pages';
import { createMachine, type AnyEventObject, type MachineConfig, type MachineContext } from 'xstate';
import { statelyMachineSource } from '../../src/console/stately-export';
import { domId, layoutDiagram, renderDiagram } from '../../src/console/diagram';
import { acceptedTransitions, machineModel, pathsToFinals } from '../../src/console/machine-model';
import { orderSagaModel } from '../../src/console/order-saga-model';
import { knownMachineVersions } from '../../machines/order-saga';

it('the order saga: every state and every state-changing transition has its stable id in the SVG', async () => {
  const model = orderSagaModel();
  expect(model.states).toHaveLength(10);
  const svg = renderDiagram(await layoutDiagram(model), {
    current: 'confirming',
    taken: new Set(['awaitingPayment:PAYMENT_CAPTURED:confirming']),
  });
  for (const s of model.states) expect(svg).toContain(`id="${domId('state', s.id)}"`);
  for (const t of model.transitions.filter((x) => x.target !== null))
    expect(svg).toContain(`id="${domId('edge', t.id)}"`);
  expect(svg).toMatch(/<g id="state-confirming" data-state="confirming" class="state current">/);
  expect(svg).toMatch(/<g id="edge-awaitingPayment_PAYMENT_CAPTURED_confirming" data-edge="[^"]+" class="edge taken">/);
  expect(svg).not.toMatch(/<script|<style/);
  // Entry commands come from the machine's own actions.
  expect(model.states.find((s) => s.id === 'awaitingPayment')!.entryCommands).toEqual([
    'ChargePayment',
    'ScheduleHoldExpiry',
  ]);
});

it('remaining steps: what a state accepts and every path to each final state', () => {
  const model = orderSagaModel();
  expect(acceptedTransitions(model, 'confirming').map((t) => t.event)).toEqual([
    'SEATS_CONFIRMED',
    'OPERATOR_COMPENSATE',
  ]);
  const paths = pathsToFinals(model, 'confirming');
  expect(paths.get('completed')!.map((p) => p.map((t) => t.event))).toEqual([['SEATS_CONFIRMED', 'NOTIFICATION_SENT']]);
  expect(paths.get('failed')).toEqual([]);
  expect(paths.get('cancelled')!.length).toBeGreaterThan(0);
  expect(pathsToFinals(model, 'completed').get('completed')).toEqual([[]]);
});

it('nested states: children are drawn inside their parent, transitions into a parent settle on its initial child', async () => {
  const machine = createMachine({
    id: 'nested',
    initial: 'idle',
    states: {
      idle: { on: { GO: 'working' } },
      working: {
        initial: 'first',
        states: { first: { on: { NEXT: 'second' } }, second: { on: { DONE: '#nested.finished' } } },
        on: { ABORT: 'finished' },
      },
      finished: { type: 'final' },
    },
  });
  const model = machineModel(machine, {});
  expect(model.states.map((s) => [s.id, s.parent])).toEqual([
    ['idle', null],
    ['working', null],
    ['working.first', 'working'],
    ['working.second', 'working'],
    ['finished', null],
  ]);
  // working.second accepts its own DONE and its parent's ABORT.
  expect(acceptedTransitions(model, 'working.second').map((t) => t.event)).toEqual(['DONE', 'ABORT']);
  expect(
    pathsToFinals(model, 'idle')
      .get('finished')!
      .map((p) => p.map((t) => t.event)),
  ).toEqual([
    ['GO', 'ABORT'],
    ['GO', 'NEXT', 'DONE'],
    ['GO', 'NEXT', 'ABORT'],
  ]);
  const layout = await layoutDiagram(model);
  const box = (id: string) => layout.states.find((s) => s.id === id)!;
  for (const child of ['working.first', 'working.second']) {
    expect(box(child).x).toBeGreaterThanOrEqual(box('working').x);
    expect(box(child).y).toBeGreaterThanOrEqual(box('working').y);
    expect(box(child).x + box(child).width).toBeLessThanOrEqual(box('working').x + box('working').width);
    expect(box(child).y + box(child).height).toBeLessThanOrEqual(box('working').y + box('working').height);
  }
  const svg = renderDiagram(layout, { current: 'working.second' });
  expect(svg).toContain('id="state-working__second"');
  expect(svg).toMatch(/class="state compound"/);
});

describe('moneyText: the console shows amounts as decimals of their currency (src/money)', () => {
  it.each([
    [2670, 'EUR', '26.70 EUR'],
    [1500, 'JPY', '1500 JPY'],
    [1234, 'KWD', '1.234 KWD'],
    [0, 'USD', '0.00 USD'],
    [null, 'EUR', '–'],
  ])('%s minor units of %s → %s', (minor, currency, text) => {
    expect(moneyText(minor, currency)).toBe(text);
  });
});

it('the order saga diagram (every machine version): no edge label overlaps another label or a state box', async () => {
  type Box = { x: number; y: number; width: number; height: number };
  const overlap = (a: Box, b: Box) =>
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  for (const version of knownMachineVersions()) {
    const layout = await layoutDiagram(orderSagaModel(version));
    const labels = layout.edges.flatMap((e) => (e.label ? [{ ...e.label, id: e.id }] : []));
    expect(labels.length).toBeGreaterThan(10);
    const clashes: string[] = [];
    labels.forEach((a, i) =>
      labels.slice(i + 1).forEach((b) => {
        if (overlap(a, b)) clashes.push(`v${version}: ${a.id} × ${b.id}`);
      }),
    );
    for (const l of labels)
      for (const s of layout.states.filter((x) => !x.compound))
        if (overlap(l, s)) clashes.push(`v${version}: ${l.id} × state ${s.id}`);
    expect(clashes).toEqual([]);
  }
});

it("the machine as code for Stately's editor: XState itself builds the same machine from it", () => {
  for (const version of knownMachineVersions()) {
    const source = statelyMachineSource(version);
    expect(source).toContain("import { createMachine } from 'xstate';");
    const config = JSON.parse(
      source.slice(source.indexOf('createMachine(') + 'createMachine('.length, source.lastIndexOf(');')),
    ) as MachineConfig<MachineContext, AnyEventObject>;
    const rebuilt = machineModel(createMachine(config), {});
    const original = orderSagaModel(version);
    expect(rebuilt.states.map((s) => s.id)).toEqual(original.states.map((s) => s.id));
    expect(rebuilt.transitions.map((t) => t.id)).toEqual(original.transitions.map((t) => t.id));
  }
});
