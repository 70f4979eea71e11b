import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { itemSize } from '../src/observability/cost-meter';
const c = new DynamoDBClient({ endpoint: 'http://127.0.0.1:8000', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
(async () => {
  const r = await c.send(new GetItemCommand({ TableName: 'TicketOrders', Key: { orderId: { S: process.argv[2] } } }));
  console.log('order item bytes', itemSize(r.Item as never));
  for (const [k, v] of Object.entries(r.Item!)) console.log(' ', k, itemSize({ [k]: v } as never));
})();
