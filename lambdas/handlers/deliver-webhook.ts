/**
 * The webhook delivery Lambda (deployed only; not an HTTP route): reads events from the webhook
 * SQS queue and delivers each with the same `WebhookSender` the local queue uses.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ConfigurationError } from '../lib/errors.js';
import { getLambdaRuntime } from '../lib/runtime.js';
import { loadSqsClient } from '../lib/webhooks/index.js';
import { deliverBatch } from '../lib/webhooks/sqs-delivery.js';
import { WebhookSender } from '../lib/webhooks/sender.js';

let delivery: Promise<(event: SQSEvent) => Promise<SQSBatchResponse>> | undefined;

/** Built on the first batch, kept for the life of the instance. */
async function build(): Promise<(event: SQSEvent) => Promise<SQSBatchResponse>> {
  const runtime = getLambdaRuntime();
  const { url, queueUrl, maxAttempts, retryBaseMs, timeoutMs } = runtime.config.webhook;
  if (url === undefined || queueUrl === undefined || !runtime.webhooks) {
    throw new ConfigurationError(['WEBHOOK_URL and WEBHOOK_QUEUE_URL must be set for the delivery function']);
  }
  const sender = new WebhookSender({
    url,
    secrets: runtime.secrets,
    graceSeconds: runtime.config.secretGraceSeconds,
    timeoutMs,
    clock: runtime.clock,
  });
  const options = {
    sender,
    sqs: await loadSqsClient(),
    queueUrl,
    maxAttempts,
    retryBaseMs,
    onDropped: runtime.webhooks.onDropped,
  };
  return (event) => deliverBatch(event.Records, options);
}

/** A failed build is not kept: the next batch builds again. */
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> =>
  (
    await (delivery ??= build().catch((error: unknown) => {
      delivery = undefined;
      throw error;
    }))
  )(event);
