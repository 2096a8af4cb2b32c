/**
 * The deployed delivery loop: one SQS message is one event. Delivered → the message is deleted.
 * Not delivered → reported as a batch item failure after its visibility is pushed out by the
 * backoff (`ChangeMessageVisibility`), so SQS hands it back later; on the last allowed attempt it
 * is counted as dropped and left to the queue's redrive policy, which moves it to the dead-letter
 * queue (`maxReceiveCount` = `WEBHOOK_MAX_ATTEMPTS`) for inspection and redrive.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { webhookEventSchema, type WebhookEvent } from './events.js';
import type { OnDropped } from './publisher.js';
import { backoffMs, type WebhookSender } from './sender.js';

/** SQS does not accept a longer visibility timeout (12 hours). */
const MAX_VISIBILITY_SECONDS = 43_200;

export interface SqsDeliveryOptions {
  readonly sender: Pick<WebhookSender, 'attempt'>;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly onDropped: OnDropped;
}

/** Delivers one batch; answers the partial batch response of the SQS event source. */
export async function deliverBatch(
  records: readonly SQSRecord[],
  options: SqsDeliveryOptions,
): Promise<SQSBatchResponse> {
  const failures = await Promise.all(records.map((record) => deliverOne(record, options)));
  return {
    batchItemFailures: failures
      .filter((id): id is string => id !== undefined)
      .map((itemIdentifier) => ({ itemIdentifier })),
  };
}

/** Delivers one record; answers its message id when it must come back. */
async function deliverOne(record: SQSRecord, options: SqsDeliveryOptions): Promise<string | undefined> {
  const { sender, sqs, queueUrl, maxAttempts, retryBaseMs, onDropped } = options;
  let event: WebhookEvent;
  try {
    event = webhookEventSchema.parse(JSON.parse(record.body)) as WebhookEvent;
  } catch {
    // Not ours to deliver: count it and let SQS delete it.
    onDropped({ id: '-', type: '-' }, 'malformed', 0);
    return undefined;
  }
  const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
  const { delivered } = await sender.attempt(event).catch(() => ({ delivered: false }));
  if (delivered) return undefined;
  if (attempt >= maxAttempts) {
    onDropped(event, 'attempts_exhausted', attempt);
    return record.messageId;
  }
  const seconds = Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(backoffMs(attempt, retryBaseMs) / 1000));
  // Imported here, on the retry path: a batch that is delivered never needs it.
  const { ChangeMessageVisibilityCommand } = await import('@aws-sdk/client-sqs');
  await sqs
    .send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: record.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    )
    // Without it the message still comes back, after the queue's own visibility timeout.
    .catch(() => undefined);
  return record.messageId;
}
