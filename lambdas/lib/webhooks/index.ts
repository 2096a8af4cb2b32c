/** Webhook feed: the publisher a runtime uses, chosen by configuration. */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config.js';
import { loadHttpHandler } from '../http-handler.js';
import type { SecretProvider } from '../secrets.js';
import { InProcessWebhookQueue, SqsWebhookPublisher, type OnDropped, type WebhookPublisher } from './publisher.js';
import { WebhookSender } from './sender.js';

export { NOT_FORWARDED, securityEvent, type WebhookEvent } from './events.js';
export { withConversationEvents } from './conversation-events.js';
export type { OnDropped, WebhookPublisher } from './publisher.js';

/** Loads the SDK and builds an SQS client that gives up fast: queueing sits on the request path. */
export async function loadSqsClient(): Promise<SQSClient> {
  const [{ SQSClient }, requestHandler] = await Promise.all([
    import('@aws-sdk/client-sqs'),
    loadHttpHandler({ connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true }),
  ]);
  return new SQSClient({ maxAttempts: 2, requestHandler });
}

/**
 * The publisher for `config`: none without `WEBHOOK_URL`; the SQS queue when `WEBHOOK_QUEUE_URL`
 * is set (deployed); else the in-process queue (local).
 */
export function createWebhookPublisher(
  config: Config,
  parts: { secrets: SecretProvider; clock: () => number; onDropped: OnDropped; sqs?: SQSClient },
): WebhookPublisher | undefined {
  const { url, queueUrl, maxAttempts, retryBaseMs, timeoutMs } = config.webhook;
  if (url === undefined) return undefined;
  if (queueUrl !== undefined) {
    let sqs: Promise<SQSClient> | undefined = parts.sqs && Promise.resolve(parts.sqs);
    // A failed load is not kept: the next event loads again.
    const client = () =>
      (sqs ??= loadSqsClient().catch((error: unknown) => {
        sqs = undefined;
        throw error;
      }));
    return new SqsWebhookPublisher({ queueUrl, client, onDropped: parts.onDropped });
  }
  const sender = new WebhookSender({
    url,
    secrets: parts.secrets,
    graceSeconds: config.secretGraceSeconds,
    timeoutMs,
    clock: parts.clock,
  });
  return new InProcessWebhookQueue({ sender, maxAttempts, retryBaseMs, onDropped: parts.onDropped });
}
