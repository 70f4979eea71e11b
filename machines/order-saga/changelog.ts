/**
 * A machine version's changelog: the differences against the previous version that are intended,
 * as rules. `npm run replay` excuses a difference only when a rule allows it (by rule, never by
 * saga), and reports any other as a divergence.
 *
 * A rule matches a replayed step by what was recorded for it; every field of `when` that is given
 * must equal the recorded one. `allow` says which difference is excused there:
 *  - addedCommands: the candidate may also emit commands of these kinds;
 *  - removedCommands: the candidate may leave out the recorded commands of these kinds;
 *  - state: the candidate may reach `candidate` where `recorded` was recorded (status follows
 *    the state, so its status difference is excused with it).
 * Whatever a rule does not allow must still be equal.
 */
export interface ChangelogRule {
  id: string;
  description: string;
  when: { eventType?: string; fromState?: string | null; toState?: string };
  allow: { addedCommands?: string[]; removedCommands?: string[]; state?: { recorded: string; candidate: string } };
}

export interface MachineChangelog {
  version: string;
  previous: string;
  changes: ChangelogRule[];
}

/** The recorded side of a step, as far as a rule looks at it. */
export interface RecordedStepKey {
  eventType: string;
  fromState: string | null;
  toState: string;
}

/** The rules of `changelog` that match a recorded step. */
export function rulesFor(changelog: MachineChangelog | null, step: RecordedStepKey): ChangelogRule[] {
  if (!changelog) return [];
  return changelog.changes.filter(
    (rule) =>
      (rule.when.eventType === undefined || rule.when.eventType === step.eventType) &&
      (rule.when.fromState === undefined || rule.when.fromState === step.fromState) &&
      (rule.when.toState === undefined || rule.when.toState === step.toState),
  );
}
