/**
 * Amazon SQS quotas the code checks against, in one place (Amazon SQS Developer Guide, "Amazon SQS
 * message quotas" and "Amazon SQS FIFO queue quotas"; the API reference of ChangeMessageVisibility,
 * ReceiveMessage and SetQueueAttributes states the same bounds).
 */

/** SQS: a message stays hidden at most 12 h (VisibilityTimeout / ChangeMessageVisibility ≤ 43,200 s). */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;
/** SQS: messages are kept at most 14 days (MessageRetentionPeriod ≤ 1,209,600 s); the DLQs keep them that long. */
export const SQS_MAX_RETENTION_SECONDS = 1_209_600;
/** SQS: a receive long-polls at most 20 s (WaitTimeSeconds). */
export const SQS_MAX_WAIT_SECONDS = 20;
/** SQS: a redrive policy's maxReceiveCount is 1 … 1,000. */
export const SQS_MAX_RECEIVE_COUNT = 1_000;
/** SQS: at most 20,000 messages in flight per FIFO queue (120,000 on a standard queue). */
export const SQS_MAX_IN_FLIGHT_FIFO = 20_000;
/** SQS: a message body is at most 256 KiB. */
export const SQS_MAX_MESSAGE_BYTES = 262_144;
/** SQS: a SendMessageBatch / DeleteMessageBatch / ChangeMessageVisibilityBatch carries at most 10 entries. */
export const SQS_MAX_BATCH_ENTRIES = 10;
/** SQS: a SendMessageBatch's payload (all bodies and attributes) is at most 256 KiB. */
export const SQS_MAX_BATCH_BYTES = 262_144;
/** SQS: a ReceiveMessage returns at most 10 messages (MaxNumberOfMessages 1–10). */
export const SQS_MAX_RECEIVE_MESSAGES = 10;
