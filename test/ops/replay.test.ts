/**
 * Replay before deploy, on the recorded fixture (test/fixtures/order-saga-histories.json: a chaos
 * run's histories plus test/fixtures/record-paths.ts's, every v2 path at least once):
 *  - the fixture replays clean on v2, the version that recorded it;
 *  - v3 reports exactly its declared difference (and, without its changelog, diverges exactly there);
 *  - a broken candidate (a guard inverted) is caught with its first diverging step named;
 *  - the CLI's exit codes say the same.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { machineVersion, sagaEventSchemas } from '../../machines/order-saga';
import { pathTraces } from '../../tools/fingerprint';
import { readHistoryFile } from '../../tools/history-source';
import { replayHistories, storyOf } from '../../src/ops/replay';
import { candidate as broken } from '../fixtures/broken-candidate';

const FIXTURE = join(__dirname, '../fixtures/order-saga-histories.json');
const fixture = readHistoryFile(FIXTURE);

/** Sagas that entered awaitingPayment: where v3 also schedules its reminder. */
const awaitedPayment = fixture.sagas.filter((s) => s.rows.some((r) => r.toState === 'awaitingPayment'));

it('the fixture covers every path of v2, recorded on v2 with what each step decided', () => {
  const recorded = new Set(fixture.sagas.map(storyOf));
  for (const trace of pathTraces(machineVersion('2'))) expect(recorded).toContain(trace.story);
  for (const saga of fixture.sagas) {
    for (const row of saga.rows.filter((r) => r.eventType in sagaEventSchemas || r.eventType === 'ORDER_PLACED')) {
      expect(row).toMatchObject({ machineVersion: '2', status: expect.any(String), commands: expect.any(Array) });
    }
  }
  expect(awaitedPayment.length).toBeGreaterThan(0);
});

it('replays clean on v2: every saga the same, step by step', () => {
  const report = replayHistories(fixture.sagas, machineVersion('2'));
  expect(report).toMatchObject({
    candidate: '2',
    sagas: fixture.sagas.length,
    same: fixture.sagas.length,
    excused: 0,
    diverged: 0,
    skipped: 0,
  });
});

it('v3 reports exactly its declared difference: the reminder scheduled on entering awaitingPayment', () => {
  const report = replayHistories(fixture.sagas, machineVersion('3'));
  expect(report.diverged).toBe(0);
  expect(report.skipped).toBe(0);
  expect(report.excused).toBe(awaitedPayment.length);
  expect(report.same).toBe(fixture.sagas.length - awaitedPayment.length);
  expect(report.rulesSeen).toEqual({ 'hold-reminder-scheduled': awaitedPayment.length });
  expect(report.rulesNotSeen).toEqual([]);
  for (const r of report.results.filter((x) => x.result === 'excused')) {
    expect(r.excused).toEqual([{ step: 2, eventType: 'SEATS_RESERVED', rules: ['hold-reminder-scheduled'] }]);
  }

  // The rule, not the saga, excuses it: without the changelog each of those sagas diverges right there.
  const undeclared = replayHistories(fixture.sagas, { ...machineVersion('3'), changelog: null });
  expect(undeclared.diverged).toBe(awaitedPayment.length);
  for (const r of undeclared.results.filter((x) => x.result === 'diverged')) {
    expect(r.firstDivergence).toMatchObject({
      step: 2,
      eventType: 'SEATS_RESERVED',
      fromState: 'reserving',
      differences: [{ field: 'commands' }],
    });
    const candidateKinds = (r.firstDivergence!.differences[0].candidate as Array<{ kind: string }>).map((c) => c.kind);
    expect(candidateKinds).toEqual(['ChargePayment', 'ScheduleHoldExpiry', 'ScheduleHoldReminder']);
  }
});

it('catches a broken candidate (a guard inverted) and names the first diverging step', () => {
  const report = replayHistories(fixture.sagas, broken);
  expect(report.diverged).toBeGreaterThan(0);
  const completed = fixture.sagas.find(
    (s) =>
      storyOf(s) === 'completed/completed: SEATS_RESERVED → PAYMENT_CAPTURED → SEATS_CONFIRMED → NOTIFICATION_SENT',
  )!;
  const verdict = report.results.find((r) => r.orderId === completed.orderId)!;
  expect(verdict.result).toBe('diverged');
  // With no cancel asked, the inverted guard sends the reserved seats straight back.
  expect(verdict.firstDivergence).toEqual({
    step: 2,
    eventType: 'SEATS_RESERVED',
    fromState: 'reserving',
    differences: [
      { field: 'state', recorded: 'awaitingPayment', candidate: 'releasingSeats' },
      { field: 'outcome', recorded: null, candidate: 'cancelled' },
      {
        field: 'commands',
        recorded: completed.rows[1].commands,
        candidate: [expect.objectContaining({ kind: 'ReleaseSeats' })],
      },
    ],
  });
  // Every path meets that guard at the inventory's answer, and nowhere sooner: each saga is caught there.
  expect(report.diverged).toBe(fixture.sagas.length);
  for (const saga of fixture.sagas) {
    const answer = saga.rows.find((r) => r.eventType === 'SEATS_RESERVED' || r.eventType === 'SEATS_UNAVAILABLE')!;
    const verdict = report.results.find((r) => r.orderId === saga.orderId)!;
    expect(verdict.firstDivergence).toMatchObject({
      step: answer.version,
      eventType: answer.eventType,
      fromState: 'reserving',
    });
  }
});

describe('npm run replay', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../scripts/replay.ts'), ...args], {
      encoding: 'utf8',
      timeout: 60000,
    });

  it('exits 0 when the candidate replays without undeclared divergence', () => {
    expect(cli('--candidate', '3', '--source', FIXTURE).status).toBe(0);
    const v3 = cli('--candidate', '3', '--source', FIXTURE);
    expect(v3.status).toBe(0);
    expect(v3.stdout).toContain(`declared change hold-reminder-scheduled: excused ${awaitedPayment.length} step(s)`);
  });

  it('exits 1 on a broken candidate, naming each diverging saga’s first step', () => {
    const out = cli('--candidate-module', join(__dirname, '../fixtures/broken-candidate.ts'), '--source', FIXTURE);
    expect(out.status).toBe(1);
    expect(out.stdout).toMatch(
      /DIVERGED \S+ \(recorded on v2\): first at step 2, SEATS_RESERVED in reserving\n {4}state: recorded "awaitingPayment", candidate "releasingSeats"/,
    );
  });

  it('exits 2 on an unknown version or a file that is not a history export', () => {
    expect(cli('--candidate', '9', '--source', FIXTURE).status).toBe(2);
    expect(cli('--candidate', '3', '--source', join(__dirname, '../../package.json')).status).toBe(2);
  });
});
