/**
 * Preloaded into the service processes of a chaos run (`node --import tsx --import <this> …`):
 * counts the SQS messages each process sends, and how many of them are the copies that
 * FAULT_DUPLICATE_RATE injected (src/fault-injection/duplicate-delivery.ts gives a copy the entry id of
 * its original plus "d"). One line per successful batch is appended to CHAOS_SENDS_FILE, so a
 * process killed with SIGKILL loses nothing it had counted. Does nothing without that variable.
 */
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

type Send = (command: unknown, ...rest: unknown[]) => Promise<unknown>;
interface BatchInput {
  QueueUrl?: string;
  Entries?: Array<{ Id?: string }>;
}

const file = process.env.CHAOS_SENDS_FILE;
if (file) {
  // The very module instance the service loads (CommonJS, from the project root).
  const load = createRequire(path.resolve(__dirname, '..', '..', 'src', 'main.ts'));
  const sqsModule = load('@aws-sdk/client-sqs') as { SQSClient: { prototype: { send: Send } } };
  const proto = sqsModule.SQSClient.prototype;
  const original = proto.send;
  proto.send = function patchedSend(this: unknown, command: unknown, ...rest: unknown[]): Promise<unknown> {
    const result = original.call(this, command, ...rest);
    const name = (command as { constructor?: { name?: string } } | null)?.constructor?.name;
    if (name !== 'SendMessageBatchCommand') return result;
    const input = (command as { input?: BatchInput }).input ?? {};
    const entries = input.Entries ?? [];
    const copies = entries.filter((e) => typeof e.Id === 'string' && e.Id.endsWith('d')).length;
    const queue = (input.QueueUrl ?? '').split('/').pop() ?? '';
    return result.then((out) => {
      try {
        appendFileSync(file, `${queue} ${entries.length - copies} ${copies}\n`);
      } catch {
        /* counting is best effort */
      }
      return out;
    });
  };
}
