/**
 * `npm run fuzz -- --inputs N [--queue-inputs M] [--seed S]`: the hostile corpus against a running
 * service and its queues (scripts/fuzz/run.ts), on the emulator at AWS_ENDPOINT_URL (default
 * 127.0.0.1:4566) and Redis at REDIS_URL. Prints counts by outcome; exit 1 on any violation.
 */
import { formatFuzz, runFuzz } from './fuzz/run';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--${name} needs a non-negative integer`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const inputs = arg('inputs', 1000);
  const queueInputs = arg('queue-inputs', Math.min(500, Math.max(25, Math.round(inputs / 20))));
  const seed = arg('seed', Date.now() % 2 ** 31);
  const started = Date.now();
  const summary = await runFuzz({
    inputs,
    queueInputs,
    seed,
    onProgress: (done, report) => {
      if (done % 500 === 0) {
        const outcomes = Object.entries(report.byOutcome)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        console.error(
          `[fuzz] ${done}/${inputs} HTTP inputs, ${((Date.now() - started) / 1000).toFixed(0)} s: ${outcomes}; state changed ${report.stateChanged}`,
        );
      }
    },
  });
  console.log(formatFuzz(summary));
  process.exit(summary.ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
