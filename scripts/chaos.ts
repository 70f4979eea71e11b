/**
 * `npm run chaos -- --orders 1000 --workers 4 --kill-rate 1/40orders --duplicate-rate 0.1 --seed 42`
 *
 * Starts its own emulator and Redis, the API and N workers as processes, places the orders while
 * killing workers (some at armed crash points), crashing Redis and pausing the emulator, waits for
 * every saga to end and runs the invariant checker. Prints a summary and writes summary.json
 * (path printed). Exit 0: no violation; 1: violations, stuck sagas or broken promises to clients;
 * 2: the run itself failed. Ctrl-C stops placing and cleans up (twice: kill everything now).
 * Options: `npm run chaos -- --help`, scripts/chaos/options.ts.
 */
import { parseChaosArgs, USAGE, UsageError } from './chaos/options';
import { formatSummary, runChaos } from './chaos/runner';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseChaosArgs(argv);
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (name: string) => {
    interrupts++;
    if (interrupts > 1) process.exit(130); // the runner's exit hook kills what it started
    console.error(`[chaos] ${name}: stopping; cleaning up (again to quit at once)`);
    abort.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const summary = await runChaos(options, {
    log: (line) => console.error(line),
    signal: abort.signal,
    command: `npm run chaos -- ${argv.join(' ')}`.trim(),
  });
  console.log(formatSummary(summary));
  if (abort.signal.aborted) return 130;
  return summary.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      if (error.message === USAGE) {
        console.log(USAGE); // --help
        process.exit(0);
      }
      console.error(error.message);
      process.exit(2);
    }
    console.error(`[chaos] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(2);
  },
);
