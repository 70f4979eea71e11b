/** The notification participant: one record per SendNotification command, however often it comes. */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { handleNotificationCommand } from '../../src/participants/notification';
import { createTestAws, type TestAws } from '../support/aws';
import { notify, participantDeps, uid } from './helpers';

let aws: TestAws;
beforeAll(async () => {
  aws = await createTestAws('tntf');
});
afterAll(async () => {
  await aws?.cleanup();
});

async function notificationsFor(orderId: string): Promise<Record<string, unknown>[]> {
  const { Items } = await aws.clients.doc.send(
    new ScanCommand({
      TableName: aws.names.tables.notifications,
      ConsistentRead: true,
      FilterExpression: '#o = :o',
      ExpressionAttributeNames: { '#o': 'orderId' },
      ExpressionAttributeValues: { ':o': orderId },
    }),
  );
  return Items ?? [];
}

it('sends once when the same command comes twice, replying the same both times', async () => {
  const orderId = uid('order');
  const cmd = notify(orderId, 'cust-42');

  const first = await handleNotificationCommand(cmd, participantDeps(aws));
  const second = await handleNotificationCommand(cmd, participantDeps(aws, { now: () => new Date(Date.now() + 5000) }));

  expect(first).toEqual({ type: 'NOTIFICATION_SENT', notificationId: cmd.commandId });
  expect(second).toEqual(first);
  const records = await notificationsFor(orderId);
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ customerId: 'cust-42', template: 'order-completed', sentAt: expect.any(String) });
});

it('sends once under concurrent duplicates', async () => {
  const orderId = uid('order');
  const replies = await Promise.all(
    Array.from({ length: 5 }, () => handleNotificationCommand(notify(orderId), participantDeps(aws))),
  );
  for (const reply of replies) expect(reply).toEqual(replies[0]);
  expect(await notificationsFor(orderId)).toHaveLength(1);
});
