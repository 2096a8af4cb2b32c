/**
 * Where events go after they happen: a queue, never the receiver directly, so a slow or failing
 * receiver never slows a request. Deployed: `SqsWebhookPublisher` (the request pays one
 * `SendMessage`; the delivery Lambda does the rest). Locally: `InProcessWebhookQueue`, which runs
 * the same `WebhookSender` attempts with the same backoff in the background. Publishing never
 * throws: an event that cannot be queued, or that runs out of attempts, is reported as dropped.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { WebhookEvent } from './events.js';
import { backoffMs, type WebhookSender } from './sender.js';

/** Why an event was given up. */
export type DropReason = 'attempts_exhausted' | 'queue_full' | 'enqueue_failed' | 'malformed';

/** Called once for every event given up (the runtime records `webhook.dropped`). */
export type OnDropped = (event: Pick<WebhookEvent, 'id' | 'type'>, reason: DropReason, attempts: number) => void;

/** Queues events for delivery. */
export interface WebhookPublisher {
  /** Queues `event`; resolves once queued (or given up), never rejects. */
  publish(event: WebhookEvent): Promise<void>;
  /** Stops background work (the local queue's timers). */
  close(): void;
}

export interface SqsWebhookPublisherOptions {
  readonly queueUrl: string;
  /** Resolves to the client (loading the SDK on the first event, not at cold start). */
  readonly client: () => Promise<SQSClient>;
  readonly onDropped: OnDropped;
}

/** Publishes to the webhook SQS queue. */
export class SqsWebhookPublisher implements WebhookPublisher {
  readonly #options: SqsWebhookPublisherOptions;

  constructor(options: SqsWebhookPublisherOptions) {
    this.#options = options;
  }

  async publish(event: WebhookEvent): Promise<void> {
    const { queueUrl, client, onDropped } = this.#options;
    try {
      const [{ SendMessageCommand }, sqs] = await Promise.all([import('@aws-sdk/client-sqs'), client()]);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }));
    } catch {
      onDropped(event, 'enqueue_failed', 0);
    }
  }

  close(): void {}
}

export interface InProcessWebhookQueueOptions {
  readonly sender: Pick<WebhookSender, 'attempt'>;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly onDropped: OnDropped;
  /**
   * Events waiting or in flight at most; beyond that new events are dropped (a bound on memory
   * when the receiver is down for long).
   * @default 1000
   */
  readonly maxPending?: number;
}

/** The local queue: same attempts and backoff as deployed, in this process. */
export class InProcessWebhookQueue implements WebhookPublisher {
  readonly #options: InProcessWebhookQueueOptions;
  readonly #maxPending: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  #pending = 0;
  #closed = false;

  constructor(options: InProcessWebhookQueueOptions) {
    this.#options = options;
    this.#maxPending = options.maxPending ?? 1000;
  }

  async publish(event: WebhookEvent): Promise<void> {
    if (this.#closed) return;
    if (this.#pending >= this.#maxPending) {
      this.#options.onDropped(event, 'queue_full', 0);
      return;
    }
    this.#pending += 1;
    this.#schedule(event, 1, 0);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #schedule(event: WebhookEvent, attempt: number, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#run(event, attempt);
    }, delayMs);
    timer.unref();
    this.#timers.add(timer);
  }

  async #run(event: WebhookEvent, attempt: number): Promise<void> {
    const { sender, maxAttempts, retryBaseMs, onDropped } = this.#options;
    const { delivered } = await sender.attempt(event).catch(() => ({ delivered: false }));
    if (this.#closed) return;
    if (delivered) {
      this.#pending -= 1;
    } else if (attempt >= maxAttempts) {
      this.#pending -= 1;
      onDropped(event, 'attempts_exhausted', attempt);
    } else {
      this.#schedule(event, attempt + 1, backoffMs(attempt, retryBaseMs));
    }
  }
}
