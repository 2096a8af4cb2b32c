/**
 * One delivery attempt of one event, shared by the deployed delivery Lambda and the local
 * in-process queue: sign with every accepted webhook secret, POST with a time limit, and say
 * whether the event is delivered (2xx) or should be retried (anything else, or no answer).
 */
import type { SecretProvider } from '../secrets.js';
import { acceptedValues } from '../secrets.js';
import type { WebhookEvent } from './events.js';
import { signatureHeader } from './signature.js';

/** The longest wait between two attempts. */
const MAX_BACKOFF_MS = 3_600_000;

export interface WebhookSenderOptions {
  readonly url: string;
  readonly secrets: SecretProvider;
  readonly graceSeconds: number;
  readonly timeoutMs: number;
  readonly clock: () => number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

/** The outcome of one attempt; `status` is the receiver's, when it answered. */
export type AttemptResult = { readonly delivered: boolean; readonly status?: number };

/** The wait before attempt `attempt + 1` (attempt counts from 1): `baseMs · 2^(attempt − 1)`, capped at an hour. */
export const backoffMs = (attempt: number, baseMs: number): number =>
  Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));

/** Sends events to the receiver. */
export class WebhookSender {
  readonly #options: WebhookSenderOptions;
  readonly #fetch: typeof fetch;

  constructor(options: WebhookSenderOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** One attempt; throws only when the signing secret cannot be read (the caller retries). */
  async attempt(event: WebhookEvent): Promise<AttemptResult> {
    const { url, secrets, graceSeconds, timeoutMs, clock } = this.#options;
    const now = clock();
    const signing = acceptedValues((await secrets.get())['webhook-signing-secret'], now, graceSeconds);
    const body = JSON.stringify(event);
    const timestamp = Math.floor(now / 1000);
    try {
      const response = await this.#fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'chat-widget-webhooks/1',
          'X-Webhook-Id': event.id,
          'X-Webhook-Timestamp': String(timestamp),
          'X-Webhook-Signature': signatureHeader(signing, event.id, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      // The answer's body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
      return { delivered: response.status >= 200 && response.status < 300, status: response.status };
    } catch {
      return { delivered: false };
    }
  }
}
