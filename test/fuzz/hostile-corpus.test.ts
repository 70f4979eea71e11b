/**
 * A short run of the hostile corpus (scripts/fuzz/): generated requests against the running API
 * (real server, emulator, Redis, tokens) and bad messages on every consumed queue (real workers).
 * Every answer is 4xx problem+json or a valid 2xx; no 5xx; no state change after a rejected input;
 * every bad message dead-lettered with its reason; invariants clean. The long run is
 * `npm run fuzz -- --inputs N` (figures in docs/security.md). FUZZ_SEED replays a seed.
 */
import { formatFuzz, runFuzz, type FuzzSummary } from '../../scripts/fuzz/run';

let summary: FuzzSummary;
const seed = Number(process.env.FUZZ_SEED ?? 20261130);

beforeAll(async () => {
  summary = await runFuzz({ inputs: 250, queueInputs: 25, seed });
  process.stderr.write(`${formatFuzz(summary)}\n`);
}, 600_000);

it('answers every hostile request with a 4xx problem+json (or a 2xx for valid input): no 5xx, none unanswered', () => {
  expect(summary.http.inputs).toBe(250);
  expect(summary.http.violations).toEqual([]);
  expect((summary.http.byOutcome['2xx'] ?? 0) + (summary.http.byOutcome['4xx problem+json'] ?? 0)).toBe(250);
  // The corpus reaches past authentication: some inputs are refused by roles, schemas or routes.
  expect(Object.keys(summary.http.byStatus).filter((s) => s !== '401').length).toBeGreaterThan(2);
});

it('refuses every other spelling of every route (issue 22): none is served', () => {
  expect(summary.http.spellings.sent).toBeGreaterThan(0);
  expect(summary.http.spellings.served).toBe(0);
});

it('changes nothing for rejected input', () => {
  expect(summary.http.stateChanged).toBe(0);
  expect(summary.invariantViolations).toEqual([]);
});

it('dead-letters every bad queue message with its reason', () => {
  expect(summary.queues.sent).toBe(25);
  expect(summary.queues.examplesMissing).toEqual([]);
  expect(summary.queues.deadLettered).toBe(25);
  expect(summary.ok).toBe(true);
});
