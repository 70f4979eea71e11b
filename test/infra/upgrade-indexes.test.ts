/**
 * `npm run init` over tables made by an older definition: the listing GSIs are added and the older
 * orders get their `createdKey`, so they are listed; the table's stream is enabled and the retired
 * StatusIndex deleted (issue 25), as is the reservations table's ExpirationIndex (issue 25, its holds
 * still read); running it again changes nothing. An index of a defined name on
 * other keys is refused with the way to drop it.
 */
import { CreateTableCommand, DescribeTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../src/aws/clients';
import { initResources } from '../../src/infra/init';
import { resourceNames, tableDefinitions } from '../../src/infra/resources';
import { OrderQueries } from '../../src/store/order-queries';
import { readReservation } from '../../src/participants/records';
import { deleteResources, TEST_DYNAMODB_ENDPOINT, TEST_ENDPOINT, TEST_REGION, uniquePrefix } from '../support/aws';

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

/** The StatusIndex every orders table made before issue 25 has (status + updatedAt), since retired. */
const STATUS_INDEX_BEFORE_ISSUE_25 = {
  IndexName: 'StatusIndex',
  KeySchema: [
    { AttributeName: 'status', KeyType: 'HASH' as const },
    { AttributeName: 'updatedAt', KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'KEYS_ONLY' as const },
};

it('adds the listing indexes to an older orders table and backfills createdKey', async () => {
  const current = tableDefinitions(prefix).find((t) => t.TableName === names.tables.orders)!;
  // The older definition: no createdKey, no listing indexes, no stream, StatusIndex.
  const { StreamSpecification: _stream, ...withoutStream } = current;
  const older: CreateTableCommandInput = {
    ...withoutStream,
    AttributeDefinitions: [
      ...current.AttributeDefinitions!.filter((a) => ['orderId', 'status'].includes(a.AttributeName!)),
      { AttributeName: 'updatedAt', AttributeType: 'S' },
    ],
    GlobalSecondaryIndexes: [STATUS_INDEX_BEFORE_ISSUE_25],
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
  expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort()).toEqual(['CustomerIndex', 'StatusOrdersIndex']);
  expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
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

/** The ExpirationIndex every reservations table made before issue 25's last cut has, since retired. */
const EXPIRATION_INDEX_BEFORE_ISSUE_25 = {
  IndexName: 'ExpirationIndex',
  KeySchema: [
    { AttributeName: 'status', KeyType: 'HASH' as const },
    { AttributeName: 'expiresAt', KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: ['orderId'] },
};

// On the emulator (moto) and on the run's DynamoDB (DynamoDB Local when global-setup started it).
const ENGINES = [...new Set([TEST_ENDPOINT, TEST_DYNAMODB_ENDPOINT])];

it.each(ENGINES)(
  'upgrades the orders table of the build before issue 25 on %s: the stream enabled, StatusIndex deleted, a write read from the stream',
  async (dynamodbEndpoint) => {
    const upgradePrefix = uniquePrefix('ups');
    const upgradeNames = resourceNames(upgradePrefix);
    const clients = createAwsClients({ awsEndpoint: TEST_ENDPOINT, dynamodbEndpoint, awsRegion: TEST_REGION });
    try {
      const current = tableDefinitions(upgradePrefix).find((t) => t.TableName === upgradeNames.tables.orders)!;
      // Today's build's table: every current index, plus StatusIndex, and no stream.
      const { StreamSpecification: _stream, ...withoutStream } = current;
      await clients.ddb.send(
        new CreateTableCommand({
          ...withoutStream,
          AttributeDefinitions: [...current.AttributeDefinitions!, { AttributeName: 'updatedAt', AttributeType: 'S' }],
          GlobalSecondaryIndexes: [...current.GlobalSecondaryIndexes!, STATUS_INDEX_BEFORE_ISSUE_25],
        }),
      );
      const before = (await clients.ddb.send(new DescribeTableCommand({ TableName: upgradeNames.tables.orders })))
        .Table!;
      expect(before.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toContain('StatusIndex');
      expect(before.StreamSpecification?.StreamEnabled ?? false).toBe(false);

      await initResources(clients, upgradePrefix);
      const after = (await clients.ddb.send(new DescribeTableCommand({ TableName: upgradeNames.tables.orders })))
        .Table!;
      expect(after.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort()).toEqual([
        'CustomerIndex',
        'StatusOrdersIndex',
      ]);
      expect(after.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_IMAGE' });
      expect(after.LatestStreamArn).toBeDefined();

      // The stream carries what is written after it was enabled.
      const StreamArn = after.LatestStreamArn!;
      const shards = (await clients.streams.send(new DescribeStreamCommand({ StreamArn }))).StreamDescription!.Shards!;
      const open = shards.find((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined)!;
      let iterator = (
        await clients.streams.send(
          new GetShardIteratorCommand({ StreamArn, ShardId: open.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
        )
      ).ShardIterator;
      const orderId = randomUUID();
      await clients.doc.send(
        new PutCommand({ TableName: upgradeNames.tables.orders, Item: { orderId, status: 'PENDING', sagaVersion: 1 } }),
      );
      const seen: string[] = [];
      for (let i = 0; i < 20 && !seen.includes(orderId); i++) {
        const out = await clients.streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        seen.push(...(out.Records ?? []).map((r) => String(r.dynamodb?.NewImage?.orderId?.S)));
        iterator = out.NextShardIterator;
        if (!seen.includes(orderId)) await new Promise((r) => setTimeout(r, 250));
      }
      expect(seen).toContain(orderId);

      await initResources(clients, upgradePrefix); // idempotent
      const again = (await clients.ddb.send(new DescribeTableCommand({ TableName: upgradeNames.tables.orders })))
        .Table!;
      expect(again.LatestStreamArn).toBe(StreamArn);
    } finally {
      await deleteResources(clients, upgradeNames);
      destroyAwsClients(clients);
    }
  },
);

it.each(ENGINES)(
  'drops ExpirationIndex from the reservations table of the previous build on %s; its holds stay readable',
  async (dynamodbEndpoint) => {
    const upgradePrefix = uniquePrefix('upx');
    const upgradeNames = resourceNames(upgradePrefix);
    const clients = createAwsClients({ awsEndpoint: TEST_ENDPOINT, dynamodbEndpoint, awsRegion: TEST_REGION });
    try {
      const current = tableDefinitions(upgradePrefix).find((t) => t.TableName === upgradeNames.tables.reservations)!;
      expect(current.GlobalSecondaryIndexes ?? []).toEqual([]);
      // The previous build's table: ExpirationIndex on (status, expiresAt).
      await clients.ddb.send(
        new CreateTableCommand({
          ...current,
          AttributeDefinitions: [
            ...current.AttributeDefinitions!,
            { AttributeName: 'status', AttributeType: 'S' },
            { AttributeName: 'expiresAt', AttributeType: 'S' },
          ],
          GlobalSecondaryIndexes: [EXPIRATION_INDEX_BEFORE_ISSUE_25],
        }),
      );
      // A hold and a confirmed reservation as the previous build stored them.
      const [active, confirmed] = [randomUUID(), randomUUID()];
      const base = {
        items: [],
        commandId: 'c',
        createdAt: '2026-12-01T00:00:00.000Z',
        updatedAt: '2026-12-01T00:00:00.000Z',
      };
      await clients.doc.send(
        new PutCommand({
          TableName: upgradeNames.tables.reservations,
          Item: {
            ...base,
            reservationId: active,
            orderId: active,
            status: 'ACTIVE',
            expiresAt: '2026-12-01T00:10:00.000Z',
          },
        }),
      );
      await clients.doc.send(
        new PutCommand({
          TableName: upgradeNames.tables.reservations,
          Item: {
            ...base,
            reservationId: confirmed,
            orderId: confirmed,
            status: 'CONFIRMED',
            heldUntil: '2026-12-01T00:10:00.000Z',
          },
        }),
      );
      const before = (await clients.ddb.send(new DescribeTableCommand({ TableName: upgradeNames.tables.reservations })))
        .Table!;
      expect(before.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(['ExpirationIndex']);

      await initResources(clients, upgradePrefix);
      const after = (await clients.ddb.send(new DescribeTableCommand({ TableName: upgradeNames.tables.reservations })))
        .Table!;
      expect(after.GlobalSecondaryIndexes ?? []).toEqual([]);
      const deps = { doc: clients.doc, tables: upgradeNames.tables };
      expect(await readReservation(deps, active)).toMatchObject({
        status: 'ACTIVE',
        expiresAt: '2026-12-01T00:10:00.000Z',
      });
      expect(await readReservation(deps, confirmed)).toMatchObject({
        status: 'CONFIRMED',
        expiresAt: '2026-12-01T00:10:00.000Z',
      });

      await initResources(clients, upgradePrefix); // idempotent
      const again = (await clients.ddb.send(new DescribeTableCommand({ TableName: upgradeNames.tables.reservations })))
        .Table!;
      expect(again.GlobalSecondaryIndexes ?? []).toEqual([]);
    } finally {
      await deleteResources(clients, upgradeNames);
      destroyAwsClients(clients);
    }
  },
);
