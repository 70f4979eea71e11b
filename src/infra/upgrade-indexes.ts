/**
 * Brings an existing table up to its definition's GSIs: `npm run init` creates a missing table, and
 * this adds the GSIs a newer definition has that the table lacks (UpdateTable, one index per call,
 * as DynamoDB allows only one index creation at a time per table), waiting for each to be ACTIVE.
 * It never deletes an index: an index the definition dropped is left for an operator to remove.
 *
 * The listing indexes (CustomerIndex, StatusOrdersIndex) sort on `createdKey`; orders written
 * before it existed get it from the store's `backfillCreatedKeys`, so they are listed too.
 */
import {
  DescribeTableCommand,
  UpdateTableCommand,
  type CreateTableCommandInput,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../aws/clients';
import { awsErrorName } from '../aws/errors';

const POLL_MS = 500;
const MAX_POLLS = 1200; // 10 minutes: building an index over a large table takes a while on AWS

async function describe(clients: AwsClients, tableName: string): Promise<TableDescription> {
  const { Table } = await clients.ddb.send(new DescribeTableCommand({ TableName: tableName }));
  if (!Table) throw new Error(`table ${tableName} not found`);
  return Table;
}

async function untilActive(clients: AwsClients, tableName: string, indexName: string): Promise<void> {
  for (let i = 0; i < MAX_POLLS; i++) {
    const table = await describe(clients, tableName);
    const index = table.GlobalSecondaryIndexes?.find((g) => g.IndexName === indexName);
    if (table.TableStatus === 'ACTIVE' && (index?.IndexStatus === undefined || index.IndexStatus === 'ACTIVE')) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`index ${indexName} on ${tableName} did not become ACTIVE`);
}

/** `customerId HASH, createdKey RANGE`: a key schema as a reader compares it. */
function keysOf(schema: ReadonlyArray<{ AttributeName?: string; KeyType?: string }> | undefined): string {
  return (schema ?? []).map((k) => `${k.AttributeName} ${k.KeyType}`).join(', ');
}

/**
 * Adds the definition's GSIs that the existing table lacks; returns their names.
 * @throws when the table has an index of a definition's name on other keys (a retired index that
 *   took the name, such as the CustomerIndex on `createdAt` that issue 13 replaced): a query would
 *   read the wrong order, and DynamoDB cannot change an index's keys. The message says how to drop
 *   it; nothing is deleted here.
 */
export async function addMissingIndexes(clients: AwsClients, definition: CreateTableCommandInput): Promise<string[]> {
  const tableName = definition.TableName!;
  const existing = new Map(
    ((await describe(clients, tableName)).GlobalSecondaryIndexes ?? []).map((g) => [g.IndexName, g] as const),
  );
  const added: string[] = [];
  for (const index of definition.GlobalSecondaryIndexes ?? []) {
    const found = existing.get(index.IndexName);
    if (found && keysOf(found.KeySchema) !== keysOf(index.KeySchema)) {
      throw new Error(
        `table ${tableName} has an index ${index.IndexName} on (${keysOf(found.KeySchema)}), the definition wants ` +
          `(${keysOf(index.KeySchema)}). Drop it (aws dynamodb update-table --table-name ${tableName} ` +
          `--global-secondary-index-updates '[{"Delete":{"IndexName":"${index.IndexName}"}}]'), wait until it is ` +
          `gone, then run npm run init again.`,
      );
    }
    if (found) continue;
    const keys = new Set(index.KeySchema?.map((k) => k.AttributeName));
    try {
      await clients.ddb.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: definition.AttributeDefinitions?.filter((a) => keys.has(a.AttributeName)),
          GlobalSecondaryIndexUpdates: [
            {
              Create: {
                IndexName: index.IndexName,
                KeySchema: index.KeySchema,
                Projection: index.Projection,
                ProvisionedThroughput: index.ProvisionedThroughput,
              },
            },
          ],
        }),
      );
    } catch (error) {
      // Another init got there first.
      if (awsErrorName(error) !== 'ResourceInUseException' && awsErrorName(error) !== 'ValidationException')
        throw error;
    }
    await untilActive(clients, tableName, index.IndexName!);
    added.push(index.IndexName!);
  }
  return added;
}
