/**
 * Brings an existing table up to its definition: `npm run init` creates a missing table, and this
 *  - adds the GSIs a newer definition has that the table lacks (UpdateTable, one index per call,
 *    as DynamoDB allows only one index creation at a time per table), waiting for each to be ACTIVE;
 *  - enables the table's stream when the definition has one and the table not (UpdateTable with
 *    StreamSpecification alone: DynamoDB takes one kind of change per call), waiting for ACTIVE;
 *  - deletes the retired indexes (src/store/indexes.ts RETIRED_INDEXES: StatusIndex, issue 25) the
 *    table still has and the definition no longer names, one per call, waiting until each is gone.
 *    Any other index the definition dropped is left for an operator to remove.
 * Rollout (docs/operations.md): a process of the previous build still reads StatusIndex; once the
 * index is gone its sweeps and list streams fail (logged, retried) until it is replaced, which a
 * rolling deploy does within minutes. Nothing is lost meanwhile: the new build's sweeper covers it.
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
import { RETIRED_INDEXES } from '../store/indexes';

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

/** Waits until the table is ACTIVE and has no index named `indexName` (a deleted index is gone). */
async function untilGone(clients: AwsClients, tableName: string, indexName: string): Promise<void> {
  for (let i = 0; i < MAX_POLLS; i++) {
    const table = await describe(clients, tableName);
    const present = table.GlobalSecondaryIndexes?.some((g) => g.IndexName === indexName) ?? false;
    if (table.TableStatus === 'ACTIVE' && !present) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`index ${indexName} on ${tableName} was not deleted`);
}

/** Waits until the table is ACTIVE (after a stream change). */
async function untilTableActive(clients: AwsClients, tableName: string): Promise<TableDescription> {
  for (let i = 0; i < MAX_POLLS; i++) {
    const table = await describe(clients, tableName);
    if (table.TableStatus === 'ACTIVE') return table;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

/**
 * Enables the definition's stream on an existing table that has none; returns whether it did.
 * @throws when the table streams another view type than the definition's: changing it means
 *   disabling the stream (its unread records are lost) and enabling it again, an operator's call.
 */
export async function enableStream(clients: AwsClients, definition: CreateTableCommandInput): Promise<boolean> {
  const wanted = definition.StreamSpecification;
  const tableName = definition.TableName!;
  if (!wanted?.StreamEnabled) return false;
  const current = (await describe(clients, tableName)).StreamSpecification;
  if (current?.StreamEnabled) {
    if (current.StreamViewType !== wanted.StreamViewType)
      throw new Error(
        `table ${tableName} streams ${current.StreamViewType}, the definition wants ${wanted.StreamViewType}: ` +
          `disable its stream (aws dynamodb update-table --table-name ${tableName} --stream-specification ` +
          `StreamEnabled=false), then run npm run init again.`,
      );
    return false;
  }
  try {
    await clients.ddb.send(new UpdateTableCommand({ TableName: tableName, StreamSpecification: wanted }));
  } catch (error) {
    // Another init got there first (the table is updating, or its stream is already on).
    if (awsErrorName(error) !== 'ResourceInUseException' && awsErrorName(error) !== 'ValidationException') throw error;
  }
  const table = await untilTableActive(clients, tableName);
  if (!table.StreamSpecification?.StreamEnabled) throw new Error(`table ${tableName}: the stream was not enabled`);
  return true;
}

/** Deletes the retired indexes (RETIRED_INDEXES) the table has and the definition lacks; returns their names. */
export async function dropRetiredIndexes(clients: AwsClients, definition: CreateTableCommandInput): Promise<string[]> {
  const tableName = definition.TableName!;
  const defined = new Set((definition.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  const retired = ((await describe(clients, tableName)).GlobalSecondaryIndexes ?? [])
    .map((g) => g.IndexName!)
    .filter((name) => RETIRED_INDEXES.includes(name) && !defined.has(name));
  for (const indexName of retired) {
    try {
      await clients.ddb.send(
        new UpdateTableCommand({
          TableName: tableName,
          GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: indexName } }],
        }),
      );
    } catch (error) {
      // Another init got there first (being deleted, or gone).
      const name = awsErrorName(error);
      if (name !== 'ResourceInUseException' && name !== 'ValidationException' && name !== 'ResourceNotFoundException')
        throw error;
    }
    await untilGone(clients, tableName, indexName);
  }
  return retired;
}
