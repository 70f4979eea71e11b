/**
 * FAULT INJECTION, for tests and chaos runs only; production leaves it off (FAULT_DUPLICATE_RATE
 * unset or 0), and then no middleware is installed at all, so it costs nothing.
 *
 * SQS delivers at least once, so make it deliver twice. With a given probability each sent message is sent again, for
 * real: on standard queues
 * after a random delay (so it also arrives out of order), on FIFO queues with a fresh
 * deduplication id (so the queue cannot drop it). Off unless a rate > 0 is configured.
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';

export function injectDuplicateDeliveries(sqs: SQSClient, rate: number, random: () => number = Math.random): void {
  if (rate <= 0) return;
  // The duplicates' own sends pass through this middleware too; they are not duplicated again.
  const duplicates = new WeakSet<object>();
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName !== 'SendMessageBatchCommand' || duplicates.has(args.input)) return result;
      const input = args.input as { QueueUrl: string; Entries: SendMessageBatchRequestEntry[] };
      const again = input.Entries.filter(() => random() < rate).map((e) => duplicateOf(e, input.QueueUrl, random));
      if (again.length > 0) {
        const duplicateInput = { QueueUrl: input.QueueUrl, Entries: again };
        duplicates.add(duplicateInput);
        await sqs.send(new SendMessageBatchCommand(duplicateInput));
      }
      return result;
    },
    { step: 'initialize', name: 'eventticketDuplicateDelivery' },
  );
}

function duplicateOf(
  entry: SendMessageBatchRequestEntry,
  queueUrl: string,
  random: () => number,
): SendMessageBatchRequestEntry {
  if (queueUrl.endsWith('.fifo')) {
    return {
      ...entry,
      Id: `${entry.Id}d`,
      MessageDeduplicationId: `${entry.MessageDeduplicationId ?? ''}:dup`.slice(-128),
    };
  }
  return { ...entry, Id: `${entry.Id}d`, DelaySeconds: Math.max(entry.DelaySeconds ?? 0, Math.floor(random() * 3)) };
}
