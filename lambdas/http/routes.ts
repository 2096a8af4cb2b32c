/**
 * The route table: the one list of HTTP routes, used by the local server to dispatch and by the
 * CDK stack to build API Gateway resources, so the two cannot drift. Anything that matches no
 * route goes to `route-fallback` (CORS preflight, 404, 405 with `Allow`). Every route taken with a
 * bearer key names here the role it requires, so the role of a route is declared in one place.
 */
import type { Role } from '../lib/roles.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

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
  | 'route-fallback';

/** One route: method, API Gateway resource path (with `{param}` segments) and its handler. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly handler: Exclude<HandlerName, 'route-fallback'>;
  /** The answer is streamed (API Gateway `STREAM` transfer mode, a response-streaming Lambda). */
  readonly stream?: boolean;
  /** The role a bearer key needs here (admin routes and `POST /v1/tokens`); absent on widget and open routes. */
  readonly role?: Role;
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/v1/chat', handler: 'post-chat' },
  { method: 'POST', path: '/chat', handler: 'post-chat' },
  { method: 'POST', path: '/v1/chat/stream', handler: 'post-chat-stream', stream: true },
  { method: 'GET', path: '/v1/admin/conversations', handler: 'admin-list-conversations', role: 'admin:read' },
  {
    method: 'GET',
    path: '/v1/admin/conversations/{sessionId}',
    handler: 'admin-get-conversation',
    role: 'admin:read',
  },
  {
    method: 'DELETE',
    path: '/v1/admin/conversations/{sessionId}',
    handler: 'admin-delete-conversation',
    role: 'admin',
  },
  { method: 'GET', path: '/v1/sessions/{sessionId}/messages', handler: 'get-session-messages' },
  { method: 'POST', path: '/v1/tokens', handler: 'mint-token', role: 'tokens:mint' },
  { method: 'POST', path: '/v1/tokens/revoke', handler: 'revoke-token' },
  { method: 'POST', path: '/v1/admin/tokens/revoke', handler: 'admin-revoke-token', role: 'admin' },
  { method: 'GET', path: '/v1/admin/audit', handler: 'admin-list-audit', role: 'admin:read' },
  { method: 'POST', path: '/v1/admin/keys', handler: 'admin-create-key', role: 'admin' },
  { method: 'GET', path: '/v1/admin/keys', handler: 'admin-list-keys', role: 'admin:read' },
  { method: 'DELETE', path: '/v1/admin/keys/{keyId}', handler: 'admin-revoke-key', role: 'admin' },
  { method: 'POST', path: '/v1/admin/chat/pause', handler: 'admin-pause-chat', role: 'admin' },
  { method: 'DELETE', path: '/v1/admin/chat/pause', handler: 'admin-resume-chat', role: 'admin' },
  { method: 'GET', path: '/v1/admin/usage', handler: 'admin-get-usage', role: 'admin:read' },
  { method: 'GET', path: '/health', handler: 'health' },
];

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
