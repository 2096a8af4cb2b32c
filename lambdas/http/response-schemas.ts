/**
 * zod schemas of every route's success body (docs/api.md), named by the route table next to its
 * request schemas. Not enforced at run time: the OpenAPI document is generated from them and the
 * end-to-end suite checks what the server answers against that document.
 */
import * as z from 'zod';
import { AUDIT_TYPES } from '../lib/audit-events.js';
import { ERROR_CODES } from '../lib/errors.js';
import { ROLES } from '../lib/roles.js';

/** An instant as the API writes it: ISO 8601 in UTC (`Date.prototype.toISOString`). */
const instant = z.iso.datetime();

/** The opaque cursor of the next page, or null on the last page. */
const nextCursor = z.string().min(1).nullable();

/** The contract's list body: a page of items and the cursor of the next one. */
const list = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor }).strict();

/** A stored message (`ChatMessage`); `partial` marks an answer cut short, `blocked` what a guardrail blocked. */
export const chatMessageSchema = z
  .object({
    role: z.enum(['user', 'assistant']),
    content: z.string(),
    createdAt: instant,
    partial: z.literal(true).optional(),
    usage: z
      .object({ inputTokens: z.number().int().min(0), outputTokens: z.number().int().min(0), estimated: z.boolean() })
      .strict()
      .optional(),
    blocked: z.literal(true).optional(),
  })
  .strict();

/** `POST /v1/chat`, `POST /chat`: the model's answer. */
export const chatResponseSchema = z.object({ sessionId: z.string(), message: chatMessageSchema }).strict();

/** One event of `POST /v1/chat/stream`, the JSON of one `data:` line (`StreamEvent`). */
export const streamEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), sessionId: z.string() }).strict(),
  z.object({ type: z.literal('token'), delta: z.string() }).strict(),
  z.object({ type: z.literal('done'), sessionId: z.string(), message: chatMessageSchema }).strict(),
  z
    .object({ type: z.literal('error'), error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }).strict() })
    .strict(),
]);

/** A conversation as admins see it (`ConversationSummary`). */
export const conversationSummarySchema = z
  .object({
    sessionId: z.string(),
    userId: z.string().nullable(),
    origin: z.string().nullable(),
    createdAt: instant,
    updatedAt: instant,
    messageCount: z.number().int().min(0),
  })
  .strict();

/** `GET /v1/admin/conversations`. */
export const conversationListSchema = list(conversationSummarySchema);

/** `GET /v1/admin/conversations/{sessionId}`: the conversation and a page of its messages. */
export const conversationResponseSchema = z
  .object({ conversation: conversationSummarySchema, messages: z.array(chatMessageSchema), nextCursor })
  .strict();

/** `GET /v1/sessions/{sessionId}/messages`: a page of the user's own messages, oldest first. */
export const messageListSchema = list(chatMessageSchema);

/** A security event (`AuditRecord`): one event, or a per-minute aggregate of `count` alike. */
export const auditRecordSchema = z
  .object({
    id: z.string(),
    type: z.enum(AUDIT_TYPES),
    actor: z.string(),
    ip: z.string(),
    method: z.string(),
    route: z.string(),
    requestId: z.string(),
    at: instant,
    lastAt: instant,
    count: z.number().int().min(1),
    detail: z.record(z.string(), z.union([z.string(), z.number()])),
  })
  .strict();

/** `GET /v1/admin/audit`. */
export const auditListSchema = list(auditRecordSchema);

/** `POST /v1/tokens`: a freshly minted widget token (`MintedToken`). */
export const mintedTokenSchema = z
  .object({ token: z.string(), tokenType: z.literal('Bearer'), expiresAt: instant, jti: z.string() })
  .strict();

/** `GET /v1/visitor-tokens/challenge`: an ALTCHA proof-of-work challenge (`VisitorChallenge`). */
export const visitorChallengeSchema = z
  .object({
    algorithm: z.literal('SHA-256'),
    challenge: z.string().regex(/^[0-9a-f]{64}$/),
    maxnumber: z.number().int().positive(),
    salt: z.string(),
    signature: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/** `POST /v1/visitor-tokens`: a visitor token (`MintedVisitorToken`). */
export const mintedVisitorTokenSchema = z
  .object({
    token: z.string(),
    tokenType: z.literal('Bearer'),
    expiresAt: instant,
    visitorId: z.string().regex(/^v_[A-Za-z0-9_-]{22}$/),
  })
  .strict();

/** A managed key as the admin API shows it (`KeyView`): never the key, never its digest. */
export const keyViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    prefix: z.string(),
    status: z.enum(['active', 'revoked', 'expired']),
    createdBy: z.string(),
    createdAt: instant,
    expiresAt: instant.nullable(),
    revokedAt: instant.nullable(),
  })
  .strict();

/** `POST /v1/admin/keys`: the new key's view and, this once, the key itself. */
export const createdKeySchema = keyViewSchema.extend({ key: z.string() }).strict();

/** `GET /v1/admin/keys`. */
export const keyListSchema = list(keyViewSchema);

/** `GET /health`. */
export const healthSchema = z.object({ status: z.literal('ok') }).strict();

/** `GET /v1/admin/usage`: one UTC day's tokens of a scope against its budget (design §12). */
export const usageSchema = z
  .object({
    day: z.iso.date(),
    scope: z.enum(['deployment', 'user', 'session']),
    inputTokens: z.number().int().min(0),
    outputTokens: z.number().int().min(0),
    turns: z.number().int().min(0),
    budget: z.number().int().min(1).nullable(),
    remaining: z.number().int().min(0).nullable(),
    usd: z.number().min(0).optional(),
  })
  .strict();

/** The contract's error body (`errorBody()` in `contract.ts`): every error answer of every route. */
export const errorBodySchema = z
  .object({
    error: z
      .object({
        code: z.enum(ERROR_CODES),
        message: z.string(),
        details: z.array(z.object({ path: z.string(), message: z.string() }).strict()).optional(),
        retry_after: z.number().int().min(1).optional(),
      })
      .strict(),
  })
  .strict();
