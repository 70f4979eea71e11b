/**
 * `npm run replay -- --candidate <version> [--source <endpoint or file>] [--json]`: replays recorded
 * saga histories through a candidate machine version and reports every saga that would diverge,
 * with its first diverging step. Exit code 0: no undeclared divergence; 1: some; 2: could not run.
 *
 * `npm run replay -- --export FILE [--source <endpoint>]`: writes the histories to FILE.
 *
 * The source: an http(s) URL is an AWS endpoint (the emulator, LocalStack); a path is a history
 * file; without --source, the deployment the environment names, like the service
 * (AWS_ENDPOINT_URL, AWS_REGION; real AWS when no endpoint). RESOURCE_PREFIX (or --prefix) names
 * the tables. `--candidate-module PATH` replays through a machine that is not registered (a
 * module exporting `candidate: { version, machine, changelog }`), e.g. one being written.
 */
import { resolve } from 'node:path';
import { machineVersion, type MachineVersion } from '../machines/order-saga';
import { createAwsClients, destroyAwsClients } from '../src/aws/clients';
import { ConfigError, loadConfig } from '../src/config/config';
import { resourceNames } from '../src/infra/resources';
import { readHistoriesFromTable, readHistoryFile, writeHistoryFile } from '../tools/history-source';
import { formatReport, replayHistories, type RecordedSaga, type ReplayCandidate } from '../src/ops/replay';
import { loadDevEnv } from './lib/dev-env';

// A running `npm run dev`'s endpoints, prefix and credentials when the environment names none.
loadDevEnv();
const USAGE = `usage: npm run replay -- --candidate <version> [--source <endpoint|file>] [--prefix P] [--json]
       npm run replay -- --candidate-module <path.ts> [--source <endpoint|file>] [--json]
       npm run replay -- --export FILE [--source <endpoint>] [--prefix P]`;

interface Args {
  candidate?: string;
  candidateModule?: string;
  exportTo?: string;
  source?: string;
  prefix?: string;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false };
  const value = (flag: string, i: number): string => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new ConfigError(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--candidate') args.candidate = value(arg, ++i);
    else if (arg === '--candidate-module') args.candidateModule = value(arg, ++i);
    else if (arg === '--export') args.exportTo = value(arg, ++i);
    else if (arg === '--source') args.source = value(arg, ++i);
    else if (arg === '--prefix') args.prefix = value(arg, ++i);
    else if (arg === '--json') args.json = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new ConfigError(`unknown argument ${arg}\n${USAGE}`);
  }
  const modes = [args.candidate, args.candidateModule, args.exportTo].filter((v) => v !== undefined).length;
  if (modes !== 1) throw new ConfigError(`give exactly one of --candidate, --candidate-module, --export\n${USAGE}`);
  return args;
}

const isEndpoint = (source: string) => /^https?:\/\//.test(source);

async function readHistories(args: Args): Promise<{ sagas: RecordedSaga[]; source: string }> {
  if (args.source !== undefined && !isEndpoint(args.source)) {
    const file = readHistoryFile(args.source);
    return { sagas: file.sagas, source: `file ${args.source} (${file.source}, exported ${file.exportedAt})` };
  }
  const env = {
    ...process.env,
    ...(args.source ? { AWS_ENDPOINT_URL: args.source } : {}),
    ...(args.prefix !== undefined ? { RESOURCE_PREFIX: args.prefix } : {}),
  };
  const config = loadConfig(env);
  const clients = createAwsClients(config);
  try {
    const table = resourceNames(config.resourcePrefix).tables.events;
    const sagas = await readHistoriesFromTable(clients.doc, table);
    return { sagas, source: `${config.awsEndpoint ?? `aws ${config.awsRegion}`} table ${table}` };
  } finally {
    destroyAwsClients(clients);
  }
}

async function candidateOf(args: Args): Promise<ReplayCandidate> {
  if (args.candidate !== undefined) {
    const entry: MachineVersion = machineVersion(args.candidate);
    return entry;
  }
  const loaded = (await import(resolve(args.candidateModule!))) as { candidate?: ReplayCandidate };
  if (!loaded.candidate?.machine) throw new ConfigError(`${args.candidateModule} exports no \`candidate\``);
  return loaded.candidate;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const { sagas, source } = await readHistories(args);
  if (args.exportTo !== undefined) {
    writeHistoryFile(args.exportTo, sagas, source);
    console.error(
      `exported ${sagas.length} saga histories (${sagas.reduce((n, s) => n + s.rows.length, 0)} rows) from ${source} to ${args.exportTo}`,
    );
    return 0;
  }
  const candidate = await candidateOf(args);
  const report = replayHistories(sagas, candidate);
  if (args.json) {
    console.log(JSON.stringify({ source, ...report }, null, 1));
    console.error(formatReport(report));
  } else {
    console.log(`histories from ${source}`);
    console.log(formatReport(report));
  }
  return report.diverged > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      error instanceof ConfigError
        ? error.message
        : `replay failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(2);
  },
);
