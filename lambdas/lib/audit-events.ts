/**
 * Audit events, the domain's view (design §9): the event types, the shape of one event (never
 * secrets, tokens or message text), the port that stores them, and the two ways an event is
 * made: about a request, or by the system itself (rotation, secret checks). The DynamoDB adapter
 * is `stores/audit-store.ts`.
 */
import type { Page, PagePosition } from './page.js';

export const AUDIT_TYPES = [
  'auth.failure',
  'token.invalid',
  'token.revoked',
  'origin.rejected',
  'rate_limit.exceeded',
  'secret.rotated',
  'secret.weak',
  'secret.refresh_failed',
  'admin.access',
  'conversation.deleted',
  'key.created',
  'key.revoked',
  'key.rejected',
  'webhook.dropped',
  'budget.exceeded',
  'chat.paused',
  'chat.resumed',
  'guardrail.blocked',
  'guardrail.prompt_attack',
  'guardrail.prompt_leak',
  'visitor.challenge_failed',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

/** One security event. Never holds secrets, tokens or message text. */
export interface AuditEvent {
  readonly type: AuditType;
  /** Who: `admin`, `server`, `key:<managed key id>`, `user:<id>`, `anonymous`, or `system`. */
  readonly actor: string;
  readonly ip: string;
  readonly method: string;
  readonly route: string;
  readonly requestId: string;
  /** Epoch milliseconds. */
  readonly at: number;
  /** Short, non-sensitive facts (a session id, a reason code). */
  readonly detail?: Readonly<Record<string, string | number>>;
}

/** An audit event as listed to admins; aggregated events carry `count` > 1 and `lastAt`. */
export interface AuditRecord extends Omit<AuditEvent, 'at' | 'detail'> {
  readonly id: string;
  readonly at: string;
  readonly lastAt: string;
  readonly count: number;
  readonly detail: Readonly<Record<string, string | number>>;
}

/** Who, from where, on which route: the facts of an event that every copy of it (audit item, webhook) carries. */
export function auditFacts(event: AuditEvent): Omit<AuditRecord, 'id' | 'type' | 'at' | 'lastAt' | 'count'> {
  return {
    actor: event.actor,
    ip: event.ip,
    method: event.method,
    route: event.route,
    requestId: event.requestId,
    detail: event.detail ?? {},
  };
}

/** Storage of audit events. */
export interface AuditStore {
  /** Stores one event as its own item. */
  put(event: AuditEvent): Promise<void>;
  /** Adds one to the per-minute aggregate of (type, ip, route) for this event. */
  aggregate(event: AuditEvent): Promise<void>;
  /** A page of events, newest first; undefined for a position that does not fit. */
  list(
    input: { limit: number; type?: AuditType; from?: PagePosition },
    now: number,
  ): Promise<Page<AuditRecord> | undefined>;
}

/** What an event about a request needs to know of it; the HTTP layer's request state has these. */
export interface EventSource {
  /** Who is calling, once authenticated; absent means anonymous. */
  readonly actor?: string;
  readonly ip: string;
  readonly method: string;
  readonly route: string;
  readonly requestId: string;
}

/** An audit event about the request `source` describes; the actor is whoever it authenticated as, else anonymous. */
export function requestEvent(
  source: EventSource,
  type: AuditType,
  at: number,
  detail?: Readonly<Record<string, string | number>>,
): AuditEvent {
  return {
    type,
    actor: source.actor ?? 'anonymous',
    ip: source.ip,
    method: source.method,
    route: source.route,
    requestId: source.requestId,
    at,
    ...(detail === undefined ? {} : { detail }),
  };
}

/** An audit event the system raises by itself (no request): actor `system`, `-` for the request fields. */
export function systemEvent(
  type: AuditType,
  at: number,
  detail?: Readonly<Record<string, string | number>>,
  requestId = '-',
): AuditEvent {
  return {
    type,
    actor: 'system',
    ip: '-',
    method: '-',
    route: '-',
    requestId,
    at,
    ...(detail === undefined ? {} : { detail }),
  };
}
