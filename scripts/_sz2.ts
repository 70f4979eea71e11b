import { DynamoDBClient, CreateTableCommand, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { itemSize } from '../src/observability/cost-meter';
const c = new DynamoDBClient({ endpoint: process.argv[2], region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
async function main() {
  const T = 'sz' + Date.now();
  await c.send(new CreateTableCommand({ TableName: T, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
  for (const n of [300, 500, 600, 900, 1000]) {
    const base = { pk: { S: 'a' + n }, v: { N: '1' }, big: { S: '' } } as any;
    base.big.S = 'x'.repeat(n - itemSize(base));
    await c.send(new PutItemCommand({ TableName: T, Item: base }));
    const t = await c.send(new TransactWriteItemsCommand({ TransactItems: [{ Update: { TableName: T, Key: { pk: base.pk }, UpdateExpression: 'SET #b = :b, v = :v', ConditionExpression: 'v = :one', ExpressionAttributeNames: { '#b': 'big' }, ExpressionAttributeValues: { ':b': { S: base.big.S }, ':v': { N: '2' }, ':one': { N: '1' } } } }], ReturnConsumedCapacity: 'TOTAL' }));
    const t2 = await c.send(new TransactWriteItemsCommand({ TransactItems: [{ Update: { TableName: T, Key: { pk: base.pk }, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '3' } } } }], ReturnConsumedCapacity: 'TOTAL' }));
    console.log(n, 'tx update (set big)', t.ConsumedCapacity?.[0]?.CapacityUnits, 'tx update (set v only)', t2.ConsumedCapacity?.[0]?.CapacityUnits);
  }
}
main().catch((e) => console.error(e));
