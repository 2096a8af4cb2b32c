/** What the API answers, as the e2e suites read it: the types of the response schemas (OpenAPI's source). */
import type * as z from 'zod';
import type {
  auditRecordSchema,
  chatMessageSchema,
  conversationSummarySchema,
} from '../../lambdas/http/response-schemas.js';

/** An item of `GET /v1/admin/conversations`. */
export type ConversationSummary = z.infer<typeof conversationSummarySchema>;
/** A stored message, as chat answers and admin reads return it. */
export type StoredMessage = z.infer<typeof chatMessageSchema>;
/** An item of `GET /v1/admin/audit`. */
export type AuditRecord = z.infer<typeof auditRecordSchema>;
