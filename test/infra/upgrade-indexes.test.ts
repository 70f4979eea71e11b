/**
 * `npm run init` over tables made by an older definition: the listing GSIs are added and the older
 * orders get their `createdKey`, so they are listed; running it again changes nothing. An index of
 * a defined name on other keys is refused with the way to drop it.
 */
import { CreateTableCommand, DescribeTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../src/aws/clients';
import { initResources } from '../../src/infra/init';
import { resourceNames, tableDefinitions } from '../../src/infra/resources';
import { OrderQueries } from '../../src/store/order-queries';
import { deleteResources, TEST_ENDPOINT, TEST_REGION, uniquePrefix } from '../support/aws';

const prefix = uniquePrefix('up');
const names = resourceNames(prefix);
const retiredPrefix = uniquePrefix('upr');
const retiredNames = resourceNames(retiredPrefix);
let clients: AwsClients;

beforeAll(() => {
  clients = createAwsClients({ awsEndpoint: TEST_ENDPOINT, awsRegion: TEST_REGION });
});
afterAll(async () => {
  await deleteResources(clients, names);
  await deleteResources(clients, retiredNames);
  destroyAwsClients(clients);
});

it('adds the listing indexes to an older orders table and backfills createdKey', async () => {
  const current = tableDefinitions(prefix).find((t) => t.TableName === names.tables.orders)!;
  // The older definition: no createdKey, no listing indexes.
  const older: CreateTableCommandInput = {
    ...current,
    AttributeDefinitions: current.AttributeDefinitions!.filter((a) =>
      ['orderId', 'status', 'updatedAt'].includes(a.AttributeName!),
    ),
    GlobalSecondaryIndexes: current.GlobalSecondaryIndexes!.filter((g) => g.IndexName === 'StatusIndex'),
  };
  await clients.ddb.send(new CreateTableCommand(older));
  const customerId = `c-${randomUUID()}`;
  const ids = [randomUUID(), randomUUID()];
  for (const [i, orderId] of ids.entries()) {
    const createdAt = `2026-11-30T10:00:0${i}.000Z`;
    await clients.doc.send(
      new PutCommand({
        TableName: names.tables.orders,
        Item: {
          orderId,
          customerId,
          status: 'COMPLETED',
          createdAt,
          updatedAt: createdAt,
          eventId: 'e',
          items: [],
          sagaState: 'completed',
          sagaVersion: 5,
          totalAmountMinor: 100,
          currency: 'EUR',
        },
      }),
    );
  }

  await initResources(clients, prefix);
  const { Table } = await clients.ddb.send(new DescribeTableCommand({ TableName: names.tables.orders }));
  expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort()).toEqual([
    'CustomerIndex',
    'StatusIndex',
    'StatusOrdersIndex',
  ]);
  const listed = await new OrderQueries(clients.doc, names.tables).listByCustomer(customerId, 10);
  expect(listed.items.map((o) => o.orderId)).toEqual([ids[1], ids[0]]);

  await initResources(clients, prefix); // idempotent
  expect(
    (await new OrderQueries(clients.doc, names.tables).listByStatus('COMPLETED', 10)).items
      .map((o) => o.orderId)
      .sort(),
  ).toEqual([...ids].sort());
});

it('refuses a table whose index of a defined name is on other keys (the retired CustomerIndex on createdAt)', async () => {
  const current = tableDefinitions(retiredPrefix).find((t) => t.TableName === retiredNames.tables.orders)!;
  // Before issue 13 the customer index had the same name but sorted on createdAt.
  const retired: CreateTableCommandInput = {
    ...current,
    AttributeDefinitions: [
      { AttributeName: 'orderId', AttributeType: 'S' },
      { AttributeName: 'customerId', AttributeType: 'S' },
      { AttributeName: 'createdAt', AttributeType: 'S' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'CustomerIndex',
        KeySchema: [
          { AttributeName: 'customerId', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
  await clients.ddb.send(new CreateTableCommand(retired));
  await expect(initResources(clients, retiredPrefix)).rejects.toThrow(
    `table ${retiredNames.tables.orders} has an index CustomerIndex on (customerId HASH, createdAt RANGE), ` +
      'the definition wants (customerId HASH, createdKey RANGE)',
  );
});
