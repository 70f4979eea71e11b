/**
 * `npm run migrate -- --to <version> (--order <id> … | --all-from <version>) --by <operator> --reason <text>
 * [--dry-run]`:
 * moves open sagas to another machine version, deliberately. Each saga's migration is the pure
 * function of its version pair (machines/order-saga/migrations.ts), recorded as a
 * MACHINE_MIGRATED Events row with the operator and the reason (the audit), then the commands the
 * target version waits on are sent. Never automatic. --dry-run says what would happen, writes
 * nothing. The target deployment comes from the environment, like the service (AWS_ENDPOINT_URL,
 * AWS_REGION, RESOURCE_PREFIX). Exit code 0: every saga migrated (or would be); 1: some refused;
 * 2: could not run.
 */
import { OPEN_ORDER_STATUSES } from '../machines/order-saga';
import { createAwsClients, destroyAwsClients } from '../src/aws/clients';
import { ConfigError, loadConfig } from '../src/config/config';
import { resourceNames } from '../src/infra/resources';
import { resolveQueueUrls } from '../src/messaging/queues';
import { migrateSaga } from '../tools/migrate-saga';
import { Dispatcher } from '../src/runtime/dispatcher';
import { OrderQueries } from '../src/store/order-queries';
import { SagaStore } from '../src/store/saga-store';
import { loadDevEnv } from './lib/dev-env';

// A running `npm run dev`'s endpoints, prefix and credentials when the environment names none.
loadDevEnv();
const USAGE = `usage: npm run migrate -- --to <version> (--order <id> … | --all-from <version>) --by <operator> --reason <text> [--dry-run]`;

interface Args {
  to: string;
  orders: string[];
  allFrom?: string;
  by: string;
  reason: string;
  dryRun: boolean;
}

function parseArgs(argv: string[]): Args {
  const given: Partial<Args> & { orders: string[]; dryRun: boolean } = { orders: [], dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new ConfigError(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--to') given.to = next();
    else if (arg === '--order') given.orders.push(next());
    else if (arg === '--all-from') given.allFrom = next();
    else if (arg === '--by') given.by = next();
    else if (arg === '--reason') given.reason = next();
    else if (arg === '--dry-run') given.dryRun = true;
    else throw new ConfigError(`unknown argument ${arg}\n${USAGE}`);
  }
  if (!given.to || !given.by || !given.reason)
    throw new ConfigError(
      `--to, --by and --reason are required: every migration is recorded with who and why\n${USAGE}`,
    );
  if (given.orders.length > 0 === (given.allFrom !== undefined))
    throw new ConfigError(`give --order ids or --all-from, not both or neither\n${USAGE}`);
  return given as Args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const clients = createAwsClients(config);
  try {
    const names = resourceNames(config.resourcePrefix);
    const store = new SagaStore(clients.doc, names.tables, config.orderItemFormat);
    const dispatcher = new Dispatcher(clients.sqs, await resolveQueueUrls(clients.sqs, names));
    let orders = args.orders;
    if (args.allFrom !== undefined) {
      const queries = new OrderQueries(clients.doc, names.tables);
      const ids: string[] = [];
      for (const status of OPEN_ORDER_STATUSES) {
        let cursor: string | undefined;
        do {
          const page = await queries.listByStatus(status, 100, cursor);
          ids.push(...page.items.map((s) => s.orderId));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
      }
      const sagas = await Promise.all(ids.map((id) => store.load(id)));
      orders = sagas.filter((s) => s?.saga.machineVersion === args.allFrom).map((s) => s!.orderId);
    }
    const operator = { by: `operator:${args.by}`, reason: args.reason };
    let refused = 0;
    for (const orderId of orders) {
      try {
        const r = await migrateSaga({ store, dispatcher }, orderId, args.to, operator, args.dryRun);
        console.log(
          `${r.applied ? 'migrated' : 'would migrate'} ${orderId}: v${r.from} → v${r.to} in ${r.state} (${r.note}) by ${operator.by}: ${operator.reason}`,
        );
      } catch (error) {
        refused += 1;
        console.log(`refused ${orderId}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    console.log(
      `${orders.length - refused} of ${orders.length} saga(s) ${args.dryRun ? 'would be migrated (dry run: nothing written)' : 'migrated'}`,
    );
    return refused > 0 ? 1 : 0;
  } finally {
    destroyAwsClients(clients);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      error instanceof ConfigError
        ? error.message
        : `migrate failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(2);
  },
);
