/**
 * Replay before deploy: every recorded saga history (its Events rows) run again through a
 * candidate machine, step by step, comparing what the candidate decides with what was recorded:
 * the state reached, the commands emitted, the order status and the outcome. Pure: the histories
 * come from a deployment or a file (tools/history-source.ts), the verdict goes to the CLI (scripts/replay.ts).
 *
 * A difference is excused only by a rule of the candidate's changelog (machines/order-saga/
 * changelog.ts), never per saga. Each saga reports its first undeclared divergence: the step (the
 * Events row's version), its event and what differs; the saga's replay stops there, since what
 * follows was recorded for a different path.
 *
 * What is not replayed: rows that are not machine events (OPERATOR_RETRY records an action, not a
 * step); a history whose first row lacks the machine input (rows written before machine versions)
 * is skipped and counted; after a MACHINE_MIGRATED row the saga ran on another version, so its
 * replay ends there.
 */
import {
  deciderFor,
  historySteps,
  rulesFor,
  type ChangelogRule,
  type Decider,
  type MachineChangelog,
  type OrderSagaInput,
  type PersistedSaga,
  type SagaCommand,
  type VersionedMachine,
} from '../../machines/order-saga';
import type { SagaHistoryEntry } from '../store/saga-store';

/** One saga's recorded history: its Events rows, any order. */
export interface RecordedSaga {
  orderId: string;
  rows: SagaHistoryEntry[];
}

export type DifferenceField = 'state' | 'status' | 'outcome' | 'commands' | 'ignored';

export interface StepDifference {
  field: DifferenceField;
  recorded: unknown;
  candidate: unknown;
}

export interface Divergence {
  /** The Events row's version: the saga's step number. */
  step: number;
  eventType: string;
  fromState: string | null;
  differences: StepDifference[];
}

export interface SagaReplay {
  orderId: string;
  /** The machine versions that recorded the history. */
  recordedVersions: string[];
  /** Steps replayed (rows that are machine steps). */
  steps: number;
  result: 'same' | 'excused' | 'diverged' | 'skipped';
  /** The first undeclared divergence (result 'diverged'). */
  firstDivergence?: Divergence;
  /** The declared differences met, step by step (rule ids). */
  excused: Array<{ step: number; eventType: string; rules: string[] }>;
  /** Why a saga was skipped or its replay ended early. */
  note?: string;
}

export interface ReplayReport {
  candidate: string;
  sagas: number;
  same: number;
  excused: number;
  diverged: number;
  skipped: number;
  /** How often each changelog rule excused a step. */
  rulesSeen: Record<string, number>;
  /** Declared rules no history met: nothing proves them either way. */
  rulesNotSeen: string[];
  /** Every saga with its result (diverged ones first). */
  results: SagaReplay[];
}

/** The candidate: a machine, the version it would be stored as, and its changelog. */
export interface ReplayCandidate extends VersionedMachine {
  changelog: MachineChangelog | null;
}

export const MIGRATION_EVENT_TYPE = 'MACHINE_MIGRATED';
const PLACED = 'ORDER_PLACED';

/** The machine input recorded on the ORDER_PLACED row, or null when the row predates it. */
export function recordedInput(orderId: string, row: SagaHistoryEntry): OrderSagaInput | null {
  const p = row.payload;
  if (row.eventType !== PLACED || typeof p.holdSeconds !== 'number' || typeof p.paymentToken !== 'string') return null;
  return {
    orderId,
    customerId: String(p.customerId),
    eventId: String(p.eventId),
    items: p.items as OrderSagaInput['items'],
    paymentToken: p.paymentToken,
    holdSeconds: p.holdSeconds,
  };
}

/** `finalState/outcome: EVENT → …`: a recorded saga's path, as the path tests tell it. */
export function storyOf(history: RecordedSaga): string {
  const steps = historySteps(history.rows);
  const last = steps.at(-1)?.row;
  const events = steps.flatMap(({ event }) => (event ? [event.type] : []));
  return `${last?.toState ?? 'none'}/${last?.outcome ?? null}: ${events.join(' → ')}`;
}

/** Replays every history through the candidate. */
export function replayHistories(histories: readonly RecordedSaga[], candidate: ReplayCandidate): ReplayReport {
  const decider = deciderFor(candidate);
  const results = histories.map((h) => replaySaga(h, decider, candidate.changelog));
  const rulesSeen: Record<string, number> = {};
  for (const r of results)
    for (const e of r.excused) for (const id of e.rules) rulesSeen[id] = (rulesSeen[id] ?? 0) + 1;
  const count = (result: SagaReplay['result']) => results.filter((r) => r.result === result).length;
  const order: Record<SagaReplay['result'], number> = { diverged: 0, skipped: 1, excused: 2, same: 3 };
  return {
    candidate: candidate.version,
    sagas: results.length,
    same: count('same'),
    excused: count('excused'),
    diverged: count('diverged'),
    skipped: count('skipped'),
    rulesSeen,
    rulesNotSeen: (candidate.changelog?.changes ?? []).map((r) => r.id).filter((id) => !(id in rulesSeen)),
    results: [...results].sort((a, b) => order[a.result] - order[b.result] || a.orderId.localeCompare(b.orderId)),
  };
}

/** Replays one saga's history; stops at its first undeclared divergence. */
export function replaySaga(history: RecordedSaga, decider: Decider, changelog: MachineChangelog | null): SagaReplay {
  // The one history fold (machines/order-saga/history.ts): version order, each row's machine event.
  const walk = historySteps(history.rows);
  const rows = walk.map((s) => s.row);
  const recordedVersions = [
    ...new Set(rows.map((r) => r.machineVersion).filter((v): v is string => typeof v === 'string')),
  ];
  const base = { orderId: history.orderId, recordedVersions, excused: [] as SagaReplay['excused'] };
  const first = rows[0];
  const input = first ? recordedInput(history.orderId, first) : null;
  if (!first || !input) {
    return {
      ...base,
      steps: 0,
      result: 'skipped',
      note: 'the history has no ORDER_PLACED row with the machine input (recorded before machine versions)',
    };
  }

  const start = decider.start(input);
  let saga: PersistedSaga = start.saga;
  let steps = 1;
  const firstCheck = compareStep(
    first,
    { state: start.saga.state, status: start.status, outcome: start.saga.context.outcome, commands: start.commands },
    changelog,
  );
  if (firstCheck.divergence) return { ...base, steps, result: 'diverged', firstDivergence: firstCheck.divergence };
  if (firstCheck.rules.length > 0)
    base.excused.push({ step: first.version, eventType: first.eventType, rules: firstCheck.rules });

  let note: string | undefined;
  for (const { row, event } of walk.slice(1)) {
    if (row.eventType === MIGRATION_EVENT_TYPE) {
      note = `migrated at step ${row.version}: the rest ran on another machine version`;
      break;
    }
    if (!event) continue;
    steps += 1;
    const next = decider.apply(saga, event);
    if (!next.changed) {
      const divergence: Divergence = {
        step: row.version,
        eventType: row.eventType,
        fromState: row.fromState,
        differences: [
          {
            field: 'ignored',
            recorded: `applied (${row.fromState} → ${row.toState})`,
            candidate: `ignored in ${saga.state}`,
          },
        ],
      };
      return { ...base, steps, result: 'diverged', firstDivergence: divergence };
    }
    const check = compareStep(
      row,
      { state: next.saga.state, status: next.status, outcome: next.saga.context.outcome, commands: next.commands },
      changelog,
    );
    if (check.divergence) return { ...base, steps, result: 'diverged', firstDivergence: check.divergence };
    if (check.rules.length > 0) base.excused.push({ step: row.version, eventType: row.eventType, rules: check.rules });
    saga = next.saga;
  }
  return { ...base, steps, result: base.excused.length > 0 ? 'excused' : 'same', ...(note ? { note } : {}) };
}

interface CandidateStep {
  state: string;
  status: string;
  outcome: string | null;
  commands: SagaCommand[];
}

/** Compares one step; returns the undeclared differences (as a divergence) and the rules that excused the rest. */
function compareStep(
  row: SagaHistoryEntry,
  candidate: CandidateStep,
  changelog: MachineChangelog | null,
): { divergence?: Divergence; rules: string[] } {
  const rules = rulesFor(changelog, { eventType: row.eventType, fromState: row.fromState, toState: row.toState });
  const used = new Set<string>();
  const differences: StepDifference[] = [];

  if (candidate.state !== row.toState) {
    const rule = rules.find(
      (r) => r.allow.state?.recorded === row.toState && r.allow.state.candidate === candidate.state,
    );
    if (rule) used.add(rule.id);
    else differences.push({ field: 'state', recorded: row.toState, candidate: candidate.state });
  }
  // The status follows the state: excused with it, compared otherwise.
  if (
    row.status !== undefined &&
    candidate.status !== row.status &&
    !(candidate.state !== row.toState && used.size > 0)
  ) {
    differences.push({ field: 'status', recorded: row.status, candidate: candidate.status });
  }
  if (row.outcome !== undefined && candidate.outcome !== row.outcome) {
    differences.push({ field: 'outcome', recorded: row.outcome, candidate: candidate.outcome });
  }
  if (row.commands !== undefined) {
    const diff = commandDifference(row.commands, candidate.commands);
    const unexcused = excuseCommands(diff, rules, used);
    if (unexcused.added.length > 0 || unexcused.removed.length > 0) {
      differences.push({ field: 'commands', recorded: row.commands, candidate: candidate.commands });
    }
  }
  if (differences.length > 0)
    return {
      divergence: { step: row.version, eventType: row.eventType, fromState: row.fromState, differences },
      rules: [],
    };
  return { rules: [...used] };
}

/** The commands only the candidate emits (added) and only the recording has (removed), compared whole. */
export function commandDifference(
  recorded: readonly SagaCommand[],
  candidate: readonly SagaCommand[],
): { added: SagaCommand[]; removed: SagaCommand[] } {
  const key = (c: SagaCommand) => JSON.stringify(c, Object.keys(c).sort());
  const left = recorded.map(key);
  const added: SagaCommand[] = [];
  for (const c of candidate) {
    const i = left.indexOf(key(c));
    if (i >= 0) left.splice(i, 1);
    else added.push(c);
  }
  const remaining = new Set(left);
  const removed = recorded.filter((c) => remaining.has(key(c)));
  return { added, removed };
}

function excuseCommands(
  diff: { added: SagaCommand[]; removed: SagaCommand[] },
  rules: ChangelogRule[],
  used: Set<string>,
) {
  const excuse = (commands: SagaCommand[], allowed: (r: ChangelogRule) => string[] | undefined) =>
    commands.filter((c) => {
      const rule = rules.find((r) => allowed(r)?.includes(c.kind));
      if (rule) used.add(rule.id);
      return !rule;
    });
  return {
    added: excuse(diff.added, (r) => r.allow.addedCommands),
    removed: excuse(diff.removed, (r) => r.allow.removedCommands),
  };
}

/** The report as text for a person: the totals, then each diverging saga's first divergence. */
export function formatReport(report: ReplayReport): string {
  const lines = [
    `replay through candidate v${report.candidate}: ${report.sagas} sagas — ${report.same} same, ${report.excused} with declared changes only, ` +
      `${report.diverged} diverged, ${report.skipped} skipped`,
  ];
  for (const [id, n] of Object.entries(report.rulesSeen)) lines.push(`  declared change ${id}: excused ${n} step(s)`);
  for (const id of report.rulesNotSeen) lines.push(`  declared change ${id}: met by no history (unproven)`);
  for (const r of report.results) {
    if (r.result === 'diverged' && r.firstDivergence) {
      const d = r.firstDivergence;
      lines.push(
        `DIVERGED ${r.orderId} (recorded on v${r.recordedVersions.join(', v')}): first at step ${d.step}, ${d.eventType} in ${d.fromState ?? '(start)'}`,
      );
      for (const diff of d.differences)
        lines.push(
          `    ${diff.field}: recorded ${JSON.stringify(diff.recorded)}, candidate ${JSON.stringify(diff.candidate)}`,
        );
    } else if (r.result === 'skipped') {
      lines.push(`skipped ${r.orderId}: ${r.note ?? ''}`);
    }
  }
  return lines.join('\n');
}
