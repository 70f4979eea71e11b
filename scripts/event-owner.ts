/**
 * `npm run event-owner -- --event <eventId> --owner <organizer sub> [--replace]`: gives an event an
 * owner (src/participants/event-owner.ts). The migration for events written before ownership
 * existed (they have ticket types and no owner, so only operator-repair may change them), and the
 * way to hand an event over (--replace). The target deployment comes from the environment, like
 * the service (AWS_ENDPOINT_URL, AWS_REGION, RESOURCE_PREFIX). Exit code 0: done; 1: the event has
 * another owner (without --replace); 2: could not run.
 */
import { createAwsClients, destroyAwsClients } from '../src/aws/clients';
import { loadConfig } from '../src/config/config';
import { resourceNames } from '../src/infra/resources';
import { assignEventOwner, EventOwnershipError } from '../src/participants';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const USAGE = 'usage: npm run event-owner -- --event <eventId> --owner <organizer sub> [--replace]';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  let eventId: string | undefined;
  let owner: string | undefined;
  let replace = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--event') eventId = args[++i];
    else if (args[i] === '--owner') owner = args[++i];
    else if (args[i] === '--replace') replace = true;
    else {
      console.error(`unknown option ${args[i]}\n${USAGE}`);
      return 2;
    }
  }
  if (!eventId || !owner || !/^[\x21-\x7E]{1,255}$/.test(owner)) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  const clients = createAwsClients(config);
  try {
    const names = resourceNames(config.resourcePrefix);
    const previous = await assignEventOwner({ doc: clients.doc, tables: names.tables }, eventId, owner, replace);
    console.log(`event ${eventId}: owner ${owner}${previous ? ` (was ${previous})` : ' (was none)'}`);
    return 0;
  } catch (error) {
    if (error instanceof EventOwnershipError) {
      console.error(`${error.message}; pass --replace to hand it over`);
      return 1;
    }
    throw error;
  } finally {
    destroyAwsClients(clients);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  },
);
