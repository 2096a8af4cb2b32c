/**
 * Step 5: authentication. Each route names the one credential it takes: the publishable widget
 * key (`X-Widget-Api-Key`), the admin key or the server key (`Authorization: Bearer`). Keys are
 * compared as SHA-256 digests in constant time against the current value and, during the grace
 * period, the previous one. A key never opens another key's routes. Failures are audited.
 */
import type { MiddlewareObj } from '@middy/core';
import type { AuditLog } from '../lib/audit.js';
import { UnauthorizedError } from '../lib/errors.js';
import { matchesAnyKey } from '../lib/keys.js';
import type { AppRequest } from '../lib/request.js';
import { acceptedValues, type SecretName, type SecretProvider } from '../lib/secrets.js';

/** The credential a route requires. */
export type AuthKind = 'none' | 'widget' | 'admin' | 'server';

const MAX_CREDENTIAL_CHARS = 4096;
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;
const BEARER_CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="chat-widget"' };

const KEY_OF: Readonly<Record<Exclude<AuthKind, 'none'>, { secret: SecretName; actor: string }>> = {
  widget: { secret: 'widget-api-key', actor: 'anonymous' },
  admin: { secret: 'admin-api-key', actor: 'admin' },
  server: { secret: 'server-api-key', actor: 'server' },
};

export interface AuthOptions {
  readonly kind: Exclude<AuthKind, 'none'>;
  readonly secrets: SecretProvider;
  readonly graceSeconds: number;
  readonly audit: AuditLog;
  readonly clock: () => number;
}

/** Extracts the presented credential for `kind`, or undefined when absent or malformed. */
function presented(kind: AuthOptions['kind'], headers: Record<string, string | undefined>): string | undefined {
  if (kind === 'widget') {
    const key = headers['x-widget-api-key'];
    return key !== undefined && key.length > 0 && key.length <= MAX_CREDENTIAL_CHARS ? key : undefined;
  }
  const match = BEARER.exec(headers.authorization ?? '');
  const token = match?.[1];
  return token !== undefined && token.length <= MAX_CREDENTIAL_CHARS ? token : undefined;
}

/** Creates the authentication middleware for one route. */
export function auth(options: AuthOptions): MiddlewareObj {
  const { kind, secrets, graceSeconds, audit, clock } = options;
  const { secret, actor } = KEY_OF[kind];
  const challenge = kind === 'widget' ? {} : BEARER_CHALLENGE;

  const fail = async (request: AppRequest, reason: string): Promise<never> => {
    const state = request.context.app;
    await audit.record({
      type: 'auth.failure',
      actor: 'anonymous',
      ip: state.ip,
      method: state.method,
      route: state.route,
      requestId: state.requestId,
      at: clock(),
      detail: { reason, credential: kind },
    });
    throw new UnauthorizedError(undefined, { headers: challenge });
  };

  return {
    before: async (request: AppRequest) => {
      const headers = request.event.headers ?? {};
      if (kind === 'widget' && headers.authorization !== undefined) {
        // Widget tokens are not accepted by this build: refuse rather than fall back to anonymous.
        return fail(request, 'token_unsupported');
      }
      const credential = presented(kind, headers);
      if (credential === undefined) return fail(request, 'missing');
      const snapshot = await secrets.get();
      if (!matchesAnyKey(credential, acceptedValues(snapshot[secret], clock(), graceSeconds))) {
        return fail(request, 'mismatch');
      }
      request.context.app.actor = actor;
    },
  } as MiddlewareObj;
}
