/** zod `.strict()` schemas for every request boundary (bodies, query strings, path parameters). */
import * as z from 'zod';
import { ROLES } from './roles.js';
import { AUDIT_TYPES } from './audit-events.js';

export const MAX_MESSAGE_CHARS = 4000;

/** A session id as the widget generates it. */
export const sessionIdSchema = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, { error: 'must be 1–128 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-"' });

/** A message: trimmed, then 1–4000 characters (code points), no NUL. */
const messageSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .refine((s) => s.length > 0, { error: 'must not be empty' })
  .refine((s) => [...s].length <= MAX_MESSAGE_CHARS, { error: `must be at most ${MAX_MESSAGE_CHARS} characters` })
  .refine((s) => !s.includes('\u0000'), { error: 'must not contain NUL characters' });

/** `POST /v1/chat` body. */
export const chatRequestSchema = z.object({ sessionId: sessionIdSchema, message: messageSchema }).strict();
export type ChatRequest = z.infer<typeof chatRequestSchema>;

const limit = (fallback: number) =>
  z
    .string()
    .regex(/^[1-9]\d{0,2}$/, { error: 'must be a whole number from 1 to 100' })
    .transform(Number)
    .refine((n) => n <= 100, { error: 'must be a whole number from 1 to 100' })
    .default(fallback);

/** A short text an operator writes (a key's name, a pause reason): trimmed, 1 to `max` printable ASCII characters. */
const printableText = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(/^[\x20-\x7e]+$/, { error: 'must be printable ASCII' });

const cursor = z.string().min(1).max(2048, { error: 'is too long' }).optional();

/** A user id as carried by widget tokens. */
export const userIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, { error: 'must be 1–128 printable ASCII characters without spaces' });

/** `GET /v1/admin/conversations` query. */
export const listConversationsQuerySchema = z
  .object({ limit: limit(20), cursor, userId: userIdSchema.optional() })
  .strict();

/** `GET /v1/admin/conversations/{sessionId}` query (paging through messages). */
export const conversationMessagesQuerySchema = z.object({ limit: limit(100), cursor }).strict();

/** `GET /v1/admin/audit` query. */
export const listAuditQuerySchema = z
  .object({
    type: z.enum(AUDIT_TYPES, { error: `must be one of ${AUDIT_TYPES.join(', ')}` }).optional(),
    limit: limit(50),
    cursor,
  })
  .strict();

/** Path parameters of `/…/{sessionId}` routes. */
export const sessionParamsSchema = z.object({ sessionId: sessionIdSchema }).strict();

/** No query parameters at all. */
export const emptyQuerySchema = z.object({}).strict();

/** `userMetadata`: a small map of strings (≤ 20 keys, key ≤ 64 chars, value ≤ 512 chars). */
export const userMetadataSchema = z
  .record(
    z.string().min(1).max(64, { error: 'keys must be at most 64 characters' }),
    z.string().max(512, { error: 'values must be at most 512 characters' }),
  )
  .refine((m) => Object.keys(m).length <= 20, { error: 'must have at most 20 keys' });

/** `POST /v1/tokens` body; `expiresInSeconds` is checked against the configured maximum by the handler. */
export const mintTokenRequestSchema = z
  .object({
    userId: userIdSchema,
    userMetadata: userMetadataSchema.optional(),
    expiresInSeconds: z
      .number()
      .int({ error: 'must be a whole number of seconds' })
      .min(60, { error: 'must be at least 60' })
      .optional(),
  })
  .strict();

/** `POST /v1/admin/tokens/revoke` body: exactly one of `jti`, `token` or `userId`. */
export const adminRevokeRequestSchema = z.union(
  [
    z.object({ jti: z.string().min(1).max(128) }).strict(),
    z.object({ token: z.string().min(1).max(4096) }).strict(),
    z.object({ userId: userIdSchema }).strict(),
  ],
  { error: 'must be exactly one of {"jti"}, {"token"} or {"userId"}' },
);

/** `GET /v1/sessions/{sessionId}/messages` query. */
export const sessionMessagesQuerySchema = z.object({ limit: limit(50), cursor }).strict();

/** `POST /v1/admin/keys` body; that `expiresAt` lies ahead is checked by the handler. */
export const createKeyRequestSchema = z
  .object({
    name: printableText(64),
    role: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }),
    expiresAt: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z' })
      .optional(),
  })
  .strict();

/** `GET /v1/admin/keys` query. */
export const listKeysQuerySchema = z.object({ limit: limit(50), cursor }).strict();

/** Path parameters of `/v1/admin/keys/{keyId}`. */
export const keyParamsSchema = z
  .object({ keyId: z.string().regex(/^k[0-9a-z]{25}$/, { error: 'must be a key id' }) })
  .strict();

/** `POST /v1/admin/chat/pause` body: why chat is paused (kept in the audit trail). */
export const pauseChatRequestSchema = z
  .object({
    reason: printableText(200),
  })
  .strict();

/** `GET /v1/admin/usage` query: a UTC day (default today) and at most one of `userId`, `sessionId`. */
export const usageQuerySchema = z
  .object({
    day: z.iso.date({ error: 'must be a date, YYYY-MM-DD' }).optional(),
    userId: userIdSchema.optional(),
    sessionId: sessionIdSchema.optional(),
  })
  .strict()
  .refine((q) => q.userId === undefined || q.sessionId === undefined, {
    error: 'give at most one of userId and sessionId',
    path: ['userId'],
  });
/** `POST /v1/visitor-tokens` body: the base64 ALTCHA solution; checked (and its absence refused) by the handler. */
export const visitorTokenRequestSchema = z.object({ pow: z.string({ error: 'must be a string' }).optional() }).strict();
