/**
 * The route table: the one list of HTTP routes and everything known about each (design §3):
 * method, path, Lambda entry, credential, role, streaming, the zod schemas of its input and of
 * its success body. The local server dispatches from it, the CDK stack builds the API Gateway
 * resources from it, `defineHandler` takes each entry's credential and schemas from it, and the
 * OpenAPI document is generated from it, so none of them can drift. Anything that matches no
 * route goes to `route-fallback` (CORS preflight, 404, 405 with `Allow`).
 */
import type { ZodType } from 'zod';
import type { ErrorCode } from '../lib/errors.js';
import type { Role } from '../lib/roles.js';
import {
  adminRevokeRequestSchema,
  chatRequestSchema,
  conversationMessagesQuerySchema,
  emptyQuerySchema,
  createKeyRequestSchema,
  keyParamsSchema,
  listAuditQuerySchema,
  listConversationsQuerySchema,
  listKeysQuerySchema,
  mintTokenRequestSchema,
  pauseChatRequestSchema,
  sessionMessagesQuerySchema,
  sessionParamsSchema,
  usageQuerySchema,
  visitorTokenRequestSchema,
} from '../lib/schemas.js';
import {
  auditListSchema,
  chatResponseSchema,
  conversationListSchema,
  conversationResponseSchema,
  createdKeySchema,
  healthSchema,
  keyListSchema,
  messageListSchema,
  mintedTokenSchema,
  mintedVisitorTokenSchema,
  streamEventSchema,
  usageSchema,
  visitorChallengeSchema,
} from './response-schemas.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/**
 * The credential a route requires: none, the widget key, or a bearer key on an admin route
 * (`admin`) or on the token route (`server`); which role the bearer key needs is the route's.
 */
export type AuthKind = 'none' | 'widget' | 'admin' | 'server';

/** The Lambda entry files under `lambdas/handlers/`. */
export type HandlerName =
  | 'post-chat'
  | 'post-chat-stream'
  | 'admin-list-conversations'
  | 'admin-get-conversation'
  | 'admin-delete-conversation'
  | 'admin-list-audit'
  | 'health'
  | 'mint-token'
  | 'revoke-token'
  | 'get-session-messages'
  | 'admin-revoke-token'
  | 'admin-create-key'
  | 'admin-list-keys'
  | 'admin-revoke-key'
  | 'admin-pause-chat'
  | 'admin-resume-chat'
  | 'admin-get-usage'
  | 'visitor-challenge'
  | 'mint-visitor-token'
  | 'route-fallback';

/** A request schema, or undefined for a route that takes no such input. */
export type Schema = ZodType | undefined;

/** What the security chain needs to serve a Lambda entry; every route of one entry has the same. */
export interface HandlerFacts<B extends Schema = Schema, Q extends Schema = Schema, P extends Schema = Schema> {
  /** The credential this route takes. */
  readonly auth: AuthKind;
  /**
   * Widget routes: whether a widget token is required (`required`) or accepted when present
   * (`optional`, which `REQUIRE_WIDGET_TOKEN=true` turns into required), or not required even
   * then (`never-required`: the visitor-token routes, where a visitor gets its first token).
   * @default 'optional'
   */
  readonly token?: 'optional' | 'required' | 'never-required';
  /** A rate-limit tier the route takes on top of its credential's (`rate-limit-tiers.ts`). @default none */
  readonly extraTier?: 'visitor-mint';
  /** The JSON body schema; routes without one take no body. */
  readonly body?: B;
  readonly query?: Q;
  readonly params?: P;
  /** Which CORS allow-list applies: admin routes use `ADMIN_CORS_ORIGIN`. @default admin when `auth` is admin, else widget */
  readonly corsList?: 'widget' | 'admin' | 'by-path';
  /**
   * The answer is streamed: API Gateway `STREAM` transfer mode, a response-streaming Lambda, and
   * `run` may answer with a `Readable` body.
   * @default false
   */
  readonly stream?: boolean;
  /**
   * A chat route: the pause switch applies and each turn reserves its tokens (design §12).
   * @default false
   */
  readonly metered?: boolean;
}

/** One route: where it is, which entry serves it, and what the chain and the OpenAPI document need. */
export interface Route extends HandlerFacts {
  readonly method: HttpMethod;
  /** The API Gateway resource path, with `{param}` segments. */
  readonly path: string;
  readonly handler: Exclude<HandlerName, 'route-fallback'>;
  /** The role a bearer key needs here (admin routes and `POST /v1/tokens`); absent on widget and open routes. */
  readonly role?: Role;
  /** The status of a success. */
  readonly status: 200 | 201 | 204;
  /** The success body; on a stream route, one event's `data:` JSON; absent for 204. */
  readonly response?: ZodType;
  /**
   * The error codes the handler itself answers, beyond those the chain answers for the route's
   * other facts (credential, body, role, path parameters: `lambdas/http/openapi.ts` derives those).
   * @default none
   */
  readonly errors?: readonly ErrorCode[];
}

/** `POST /v1/chat` and its alias `POST /chat`. */
const CHAT = {
  handler: 'post-chat',
  auth: 'widget',
  metered: true,
  body: chatRequestSchema,
  status: 200,
  response: chatResponseSchema,
  errors: ['IDEMPOTENCY_IN_PROGRESS', 'IDEMPOTENCY_KEY_REUSED', 'NOT_FOUND', 'UPSTREAM_ERROR'],
} as const;

/** The table, keyed `"METHOD /path"`; add a route here and it is served locally, deployed and documented. */
export const ROUTE_TABLE = {
  'POST /v1/chat': { method: 'POST', path: '/v1/chat', ...CHAT },
  'POST /chat': { method: 'POST', path: '/chat', ...CHAT },
  'POST /v1/chat/stream': {
    method: 'POST',
    path: '/v1/chat/stream',
    handler: 'post-chat-stream',
    auth: 'widget',
    metered: true,
    body: chatRequestSchema,
    stream: true,
    status: 200,
    response: streamEventSchema,
    errors: ['NOT_FOUND'],
  },
  'GET /v1/admin/conversations': {
    method: 'GET',
    path: '/v1/admin/conversations',
    handler: 'admin-list-conversations',
    auth: 'admin',
    role: 'admin:read',
    query: listConversationsQuerySchema,
    status: 200,
    response: conversationListSchema,
  },
  'GET /v1/admin/conversations/{sessionId}': {
    method: 'GET',
    path: '/v1/admin/conversations/{sessionId}',
    handler: 'admin-get-conversation',
    auth: 'admin',
    role: 'admin:read',
    params: sessionParamsSchema,
    query: conversationMessagesQuerySchema,
    status: 200,
    response: conversationResponseSchema,
  },
  'DELETE /v1/admin/conversations/{sessionId}': {
    method: 'DELETE',
    path: '/v1/admin/conversations/{sessionId}',
    handler: 'admin-delete-conversation',
    auth: 'admin',
    role: 'admin',
    params: sessionParamsSchema,
    status: 204,
  },
  'GET /v1/sessions/{sessionId}/messages': {
    method: 'GET',
    path: '/v1/sessions/{sessionId}/messages',
    handler: 'get-session-messages',
    auth: 'widget',
    token: 'required',
    params: sessionParamsSchema,
    query: sessionMessagesQuerySchema,
    status: 200,
    response: messageListSchema,
  },
  'POST /v1/tokens': {
    method: 'POST',
    path: '/v1/tokens',
    handler: 'mint-token',
    auth: 'server',
    role: 'tokens:mint',
    body: mintTokenRequestSchema,
    status: 201,
    response: mintedTokenSchema,
  },
  'POST /v1/tokens/revoke': {
    method: 'POST',
    path: '/v1/tokens/revoke',
    handler: 'revoke-token',
    auth: 'widget',
    token: 'required',
    status: 204,
  },
  'POST /v1/admin/tokens/revoke': {
    method: 'POST',
    path: '/v1/admin/tokens/revoke',
    handler: 'admin-revoke-token',
    auth: 'admin',
    role: 'admin',
    body: adminRevokeRequestSchema,
    status: 204,
  },
  'GET /v1/admin/audit': {
    method: 'GET',
    path: '/v1/admin/audit',
    handler: 'admin-list-audit',
    auth: 'admin',
    role: 'admin:read',
    query: listAuditQuerySchema,
    status: 200,
    response: auditListSchema,
  },
  'POST /v1/admin/keys': {
    method: 'POST',
    path: '/v1/admin/keys',
    handler: 'admin-create-key',
    auth: 'admin',
    role: 'admin',
    body: createKeyRequestSchema,
    status: 201,
    response: createdKeySchema,
    errors: ['KEY_LIMIT_REACHED'],
  },
  'GET /v1/admin/keys': {
    method: 'GET',
    path: '/v1/admin/keys',
    handler: 'admin-list-keys',
    auth: 'admin',
    role: 'admin:read',
    query: listKeysQuerySchema,
    status: 200,
    response: keyListSchema,
  },
  'DELETE /v1/admin/keys/{keyId}': {
    method: 'DELETE',
    path: '/v1/admin/keys/{keyId}',
    handler: 'admin-revoke-key',
    auth: 'admin',
    role: 'admin',
    params: keyParamsSchema,
    status: 204,
  },
  'POST /v1/admin/chat/pause': {
    method: 'POST',
    path: '/v1/admin/chat/pause',
    handler: 'admin-pause-chat',
    auth: 'admin',
    role: 'admin',
    body: pauseChatRequestSchema,
    status: 204,
  },
  'DELETE /v1/admin/chat/pause': {
    method: 'DELETE',
    path: '/v1/admin/chat/pause',
    handler: 'admin-resume-chat',
    auth: 'admin',
    role: 'admin',
    status: 204,
  },
  'GET /v1/admin/usage': {
    method: 'GET',
    path: '/v1/admin/usage',
    handler: 'admin-get-usage',
    auth: 'admin',
    role: 'admin:read',
    query: usageQuerySchema,
    status: 200,
    response: usageSchema,
  },
  'GET /v1/visitor-tokens/challenge': {
    method: 'GET',
    path: '/v1/visitor-tokens/challenge',
    handler: 'visitor-challenge',
    auth: 'widget',
    token: 'never-required',
    query: emptyQuerySchema,
    status: 200,
    response: visitorChallengeSchema,
  },
  'POST /v1/visitor-tokens': {
    method: 'POST',
    path: '/v1/visitor-tokens',
    handler: 'mint-visitor-token',
    auth: 'widget',
    token: 'never-required',
    extraTier: 'visitor-mint',
    body: visitorTokenRequestSchema,
    status: 201,
    errors: ['CHALLENGE_FAILED'],
    response: mintedVisitorTokenSchema,
  },
  'GET /health': {
    method: 'GET',
    path: '/health',
    handler: 'health',
    auth: 'none',
    status: 200,
    response: healthSchema,
  },
} as const satisfies Readonly<Record<string, Route>>;

/** A route's key in the table: `"METHOD /path"`. */
export type RouteKey = keyof typeof ROUTE_TABLE;

/** Every route, in table order. */
export const ROUTES: readonly Route[] = Object.values(ROUTE_TABLE);

/** The facts of one route, typed precisely (its schemas), for `defineHandler(route('POST /v1/chat'), …)`. */
export function route<K extends RouteKey>(key: K): (typeof ROUTE_TABLE)[K] {
  return ROUTE_TABLE[key];
}

/** What `route-fallback` serves: every request no route takes, with no credential and the CORS list of its path. */
export const FALLBACK = { auth: 'none', corsList: 'by-path' } as const satisfies HandlerFacts;

/** The result of matching a request against the table. */
export interface RouteMatch {
  readonly handler: HandlerName;
  /** The API Gateway resource path that matched (`/{proxy+}` when none did). */
  readonly resource: string;
  readonly pathParameters: Readonly<Record<string, string>> | null;
}

/** Matches `path` against a route template; returns decoded parameters, or undefined. */
function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}

/** The methods served on the resource that `path` matches, or undefined when no route matches it. */
export function resourceFor(
  path: string,
): { resource: string; methods: HttpMethod[]; pathParameters: Record<string, string> } | undefined {
  for (const route of ROUTES) {
    const params = matchPath(route.path, path);
    if (params) {
      const methods = ROUTES.filter((r) => r.path === route.path).map((r) => r.method);
      return { resource: route.path, methods, pathParameters: params };
    }
  }
  return undefined;
}

/** Picks the handler for a request, as API Gateway would. */
export function matchRoute(method: string, path: string): RouteMatch {
  const found = resourceFor(path);
  if (!found) return { handler: 'route-fallback', resource: '/{proxy+}', pathParameters: { proxy: path.slice(1) } };
  const route = ROUTES.find((r) => r.path === found.resource && r.method === method);
  const pathParameters = Object.keys(found.pathParameters).length > 0 ? found.pathParameters : null;
  return { handler: route ? route.handler : 'route-fallback', resource: found.resource, pathParameters };
}

/**
 * The role a bearer key needs for `method` on the API Gateway `resource`; `admin` (the most
 * privileged) when the route names none, so a route that forgot its role is closed, not open.
 */
export function requiredRole(method: string, resource: string): Role {
  return ROUTES.find((r) => r.method === method && r.path === resource)?.role ?? 'admin';
}

/** Admin routes take their CORS allow-list from `ADMIN_CORS_ORIGIN`. */
export const isAdminPath = (path: string): boolean => path === '/v1/admin' || path.startsWith('/v1/admin/');
