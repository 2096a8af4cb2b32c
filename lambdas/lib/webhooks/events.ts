/**
 * Webhook events: what a receiver gets, as JSON. Events carry ids, counts and times, never
 * message text, secrets, keys or tokens: `conversation.created` and `message.created` say that
 * something happened in a session, not what was said.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { auditFacts, type AuditEvent, type AuditType } from '../audit-events.js';

/** Security events that are not sent (they are about the webhook itself). */
export const NOT_FORWARDED: ReadonlySet<AuditType> = new Set(['webhook.dropped']);

/** One event as sent: `id` is unique per event and the same on every retry (replay protection). */
export interface WebhookEvent {
  readonly id: string;
  /** `conversation.created`, `message.created`, or a security event type (`auth.failure`, …). */
  readonly type: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly data: Readonly<Record<string, string | number | null | Readonly<Record<string, string | number>>>>;
}

/** The shape of an event read back from a queue. */
export const webhookEventSchema = z
  .object({
    id: z.string().regex(/^evt_[0-9a-f-]{36}$/),
    type: z.string().regex(/^[a-z_]+\.[a-z_]+$/),
    createdAt: z.iso.datetime(),
    data: z.record(z.string(), z.unknown()),
  })
  .strict();

const newEvent = (type: string, at: number, data: WebhookEvent['data']): WebhookEvent => ({
  id: `evt_${randomUUID()}`,
  type,
  createdAt: new Date(at).toISOString(),
  data,
});

/** A session's first message was stored. */
export const conversationCreated = (sessionId: string, at: number): WebhookEvent =>
  newEvent('conversation.created', at, { sessionId });

/** A message was stored: its session, its author's role and its position, not its text. */
export const messageCreated = (sessionId: string, role: string, sequence: number, at: number): WebhookEvent =>
  newEvent('message.created', at, { sessionId, role, sequence });

/** A security event (design §9), as recorded in the audit trail. */
export const securityEvent = (event: AuditEvent): WebhookEvent => newEvent(event.type, event.at, auditFacts(event));
