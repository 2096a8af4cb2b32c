/** Every Lambda entry, by the name the route table uses; a missing one fails the type check. */
import * as adminCreateKey from '../lambdas/handlers/admin-create-key.js';
import * as adminGetUsage from '../lambdas/handlers/admin-get-usage.js';
import * as adminPauseChat from '../lambdas/handlers/admin-pause-chat.js';
import * as adminResumeChat from '../lambdas/handlers/admin-resume-chat.js';
import * as adminDeleteConversation from '../lambdas/handlers/admin-delete-conversation.js';
import * as adminGetConversation from '../lambdas/handlers/admin-get-conversation.js';
import * as adminListAudit from '../lambdas/handlers/admin-list-audit.js';
import * as adminListConversations from '../lambdas/handlers/admin-list-conversations.js';
import * as adminListKeys from '../lambdas/handlers/admin-list-keys.js';
import * as adminRevokeKey from '../lambdas/handlers/admin-revoke-key.js';
import * as adminRevokeToken from '../lambdas/handlers/admin-revoke-token.js';
import * as getSessionMessages from '../lambdas/handlers/get-session-messages.js';
import * as health from '../lambdas/handlers/health.js';
import * as mintToken from '../lambdas/handlers/mint-token.js';
import * as postChat from '../lambdas/handlers/post-chat.js';
import * as postChatStream from '../lambdas/handlers/post-chat-stream.js';
import * as revokeToken from '../lambdas/handlers/revoke-token.js';
import * as mintVisitorToken from '../lambdas/handlers/mint-visitor-token.js';
import * as visitorChallenge from '../lambdas/handlers/visitor-challenge.js';
import * as routeFallback from '../lambdas/handlers/route-fallback.js';
import type { DefinedHandler } from '../lambdas/http/handler.js';
import type { HandlerName } from '../lambdas/http/routes.js';

export const HANDLERS: Readonly<Record<HandlerName, DefinedHandler>> = {
  'post-chat': postChat,
  'post-chat-stream': postChatStream,
  'admin-list-conversations': adminListConversations,
  'admin-get-conversation': adminGetConversation,
  'admin-delete-conversation': adminDeleteConversation,
  'admin-list-audit': adminListAudit,
  health,
  'mint-token': mintToken,
  'revoke-token': revokeToken,
  'get-session-messages': getSessionMessages,
  'admin-revoke-token': adminRevokeToken,
  'admin-create-key': adminCreateKey,
  'admin-list-keys': adminListKeys,
  'admin-revoke-key': adminRevokeKey,
  'admin-pause-chat': adminPauseChat,
  'admin-resume-chat': adminResumeChat,
  'admin-get-usage': adminGetUsage,
  'visitor-challenge': visitorChallenge,
  'mint-visitor-token': mintVisitorToken,
  'route-fallback': routeFallback,
};
