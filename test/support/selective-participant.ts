/**
 * A participant for chosen orders only, to park sagas in a given state: takes their commands off
 * the real queue, runs the real participant, sends the real reply; hands every other message back
 * untouched (visible again at once). Used to record the replay fixture and by the rollout test.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { parseCommandEnvelope } from '../../src/messaging/envelopes';
import { handleParticipantCommand, type ParticipantCommand } from '../../src/participants';
import { replyEventId } from '../../src/runtime/routing';
import type { ParticipantKey } from '../../src/runtime/workers';
import type { Core } from '../../src/service';

/** Serves `role`'s commands of `orderIds` until `done()` (at most `timeoutMs`). */
export async function serveOnly(
  core: Core,
  role: ParticipantKey,
  orderIds: string[],
  done: () => Promise<boolean>,
  timeoutMs = 60000,
): Promise<void> {
  const url = core.queues[role];
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`serveOnly(${role}) did not get its sagas there`);
    const { Messages = [] } = await core.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30 }),
    );
    for (const m of Messages) {
      const parsed = parseCommandEnvelope(m.Body ?? '');
      if (parsed.ok && orderIds.includes(parsed.value.command.orderId)) {
        const { command, correlationId } = parsed.value;
        const reply = await handleParticipantCommand(command as ParticipantCommand, core.participantDeps);
        await core.dispatcher.sendSagaEvent(command.orderId, replyEventId(command.commandId), reply, correlationId);
        await core.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
      } else {
        await core.clients.sqs.send(
          new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }),
        );
      }
    }
  }
}
