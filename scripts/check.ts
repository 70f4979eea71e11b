/**
 * `npm run check [-- --json] [--stuck-after-ms 60000]`: the invariant checker against any
 * deployment. The target comes from the environment, as for the service: AWS_ENDPOINT_URL,
 * AWS_REGION, RESOURCE_PREFIX (src/config/config.ts). Scans every table (an offline check).
 *
 * Prints a readable summary; with --json the report as JSON on stdout (the summary then goes to
 * stderr). Exit code 0: no violation, 1: violations, 2: the check could not run.
 */
import { createAwsClients, destroyAwsClients } from '../src/aws/clients';
import { ConfigError, loadConfig } from '../src/config/config';
import { resourceNames } from '../src/infra/resources';
import { checkInvariants, DEFAULT_STUCK_AFTER_MS, formatReport } from '../tools/invariants';
import { loadDevEnv } from './lib/dev-env';

// A running `npm run dev`'s endpoints, prefix and credentials when the environment names none.
loadDevEnv();
const USAGE = `usage: npm run check -- [--json] [--stuck-after-ms N]
  reads AWS_ENDPOINT_URL, AWS_REGION and RESOURCE_PREFIX like the service
  --json              print the report as JSON on stdout (summary on stderr)
  --stuck-after-ms N  an open saga idle for longer (or that long past its hold) is stuck (default ${DEFAULT_STUCK_AFTER_MS})`;

function parseArgs(argv: string[]): { json: boolean; stuckAfterMs: number } {
  let json = false;
  let stuckAfterMs = DEFAULT_STUCK_AFTER_MS;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--stuck-after-ms' || arg.startsWith('--stuck-after-ms=')) {
      const value = arg.includes('=') ? arg.split('=')[1] : argv[++i];
      stuckAfterMs = Number(value);
      if (!Number.isInteger(stuckAfterMs) || stuckAfterMs < 0)
        throw new ConfigError(`--stuck-after-ms: not a non-negative integer: ${String(value)}`);
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new ConfigError(`unknown argument ${arg}\n${USAGE}`);
  }
  return { json, stuckAfterMs };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const clients = createAwsClients(config);
  try {
    const report = await checkInvariants(
      { doc: clients.doc, tables: resourceNames(config.resourcePrefix).tables },
      { stuckAfterMs: args.stuckAfterMs },
    );
    const target = `${config.awsEndpoint ?? 'AWS'} (${config.awsRegion}), prefix '${config.resourcePrefix}'`;
    const summary = `${target}\n${formatReport(report)}`;
    if (args.json) {
      console.error(summary);
      console.log(JSON.stringify(report, null, 2));
    } else console.log(summary);
    return report.ok ? 0 : 1;
  } finally {
    destroyAwsClients(clients);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`check: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
