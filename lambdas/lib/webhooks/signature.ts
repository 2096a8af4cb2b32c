/**
 * Webhook signatures: `v1=<hex HMAC-SHA256 of "<id>.<timestamp>.<body>">` under the webhook
 * signing secret. During a rotation's grace period one signature per accepted secret is sent,
 * comma-separated, the current secret's first (`v1=<new>,v1=<old>`), so a receiver that still
 * holds the old secret keeps verifying while it switches.
 */
import { createHmac } from 'node:crypto';

/** The hex HMAC-SHA256 of `id.timestamp.body` under `secret`. */
export const sign = (secret: string, id: string, timestamp: number, body: string): string =>
  createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`, 'utf8').digest('hex');

/** The `X-Webhook-Signature` value for `secrets` (current first). */
export const signatureHeader = (secrets: readonly string[], id: string, timestamp: number, body: string): string =>
  secrets.map((secret) => `v1=${sign(secret, id, timestamp, body)}`).join(',');
