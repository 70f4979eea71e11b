/** `npm run init`: create the tables and queues named by the environment. */
import { createAwsClients, destroyAwsClients } from '../aws/clients';
import { loadConfig } from '../config/config';
import { initResources } from './init';

async function main(): Promise<void> {
  const config = loadConfig();
  const clients = createAwsClients(config);
  try {
    await initResources(clients, config.resourcePrefix);
    console.log(`tables and queues ready (prefix '${config.resourcePrefix}', endpoint ${config.awsEndpoint ?? 'AWS'})`);
  } finally {
    destroyAwsClients(clients);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
