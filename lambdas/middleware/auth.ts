/**
 * Step 5: authentication. Each route names the one credential it takes: the publishable widget
 * key (`X-Widget-Api-Key`), the admin key or the server key (`Authorization: Bearer`). Keys are
 * compared as SHA-256 digests in constant time against the current value and, during the grace
 * period, the previous one. A key never opens another key's routes. On widget routes an
 * `Authorization: Bearer <widget token>` is verified when present (a bad one is always 401, never
 * a fall-back to anonymous) and required when the route or `REQUIRE_WIDGET_TOKEN` says so.
 * Tokens are read from that header only, never from the query string or cookies. Failures are
 * audited (`auth.failure` for keys, `token.invalid` for tokens) and counted towards the client's
 * failed-authentication lockout.
 */
import type { MiddlewareObj } from '@middy/core';
import { requestEvent, type AuditLog } from '../lib/audit.js';
import { AppError, UnauthorizedError } from '../lib/errors.js';
import { matchesAnyKey } from '../lib/keys.js';
import type { AppRequest } from '../lib/request.js';
import { acceptedValues, type SecretName, type SecretProvider } from '../lib/secrets.js';
import { RateLimitError, type LimitCheck, type RateLimiter } from '../lib/rate-limiter.js';
import type { AuditType } from '../lib/stores/audit-store.js';
import { InvalidTokenError, MAX_TOKEN_CHARS, verifyWidgetToken, type TokenPolicy } from '../lib/tokens.js';

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
  /** Widget routes only: whether a widget token must be presented. @default false */
  readonly requireToken?: boolean;
  /** Widget routes only: lifetime cap, audience and issuer of widget tokens. */
  readonly tokenPolicy?: TokenPolicy;
  /**
   * The failed-authentication lockout: each failure is counted for the client, and once the
   * count passes its limit the answer is 429 instead of 401, so the answer no longer tells a
   * guesser anything. When the counter store is down: 503, or 401 when `failOpen`.
   */
  readonly lockout?: {
    readonly limiter: RateLimiter;
    readonly check: (request: AppRequest) => LimitCheck;
    readonly failOpen: boolean;
  };
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
  const tokenPolicy = options.tokenPolicy ?? { maxTtlSeconds: 0 };

  /** Counts a failure for the client; returns the lockout error once the client is past its limit. */
  const countFailure = async (request: AppRequest): Promise<AppError | undefined> => {
    const lockout = options.lockout;
    if (!lockout) return undefined;
    try {
      const { exhausted, retryAfter } = await lockout.limiter.record(lockout.check(request));
      return exhausted ? new RateLimitError(retryAfter) : undefined;
    } catch (error) {
      if (lockout.failOpen) return undefined;
      throw error;
    }
  };

  const fail = async (request: AppRequest, type: AuditType, reason: string, error: AppError): Promise<never> => {
    const state = request.context.app;
    const lockedOut = await countFailure(request);
    await audit.record(
      requestEvent(state, type, clock(), {
        reason: reason.slice(0, 64),
        credential: type === 'token.invalid' ? 'widget-token' : kind,
      }),
    );
    throw lockedOut ?? error;
  };
  const keyFailure = (request: AppRequest, reason: string) =>
    fail(request, 'auth.failure', reason, new UnauthorizedError(undefined, { headers: challenge }));

  /** Verifies the widget token in `Authorization`, if any; records it on the request state. */
  const widgetToken = async (request: AppRequest, signing: readonly string[]): Promise<void> => {
    const header = request.event.headers?.authorization;
    if (header === undefined) {
      if (!options.requireToken) return;
      return fail(
        request,
        'token.invalid',
        'missing',
        new UnauthorizedError('A widget token is required.', { headers: BEARER_CHALLENGE }),
      );
    }
    const token = BEARER.exec(header)?.[1];
    try {
      if (token === undefined || token.length > MAX_TOKEN_CHARS) throw new InvalidTokenError('malformed_header');
      const verified = await verifyWidgetToken(token, signing, tokenPolicy, clock());
      request.context.app.token = verified;
      request.context.app.actor = `user:${verified.userId}`;
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 401) throw error;
      return fail(request, 'token.invalid', 'reason' in error ? String(error.reason) : 'invalid', error);
    }
  };

  return {
    before: async (request: AppRequest) => {
      const credential = presented(kind, request.event.headers ?? {});
      if (credential === undefined) return keyFailure(request, 'missing');
      const snapshot = await secrets.get();
      const now = clock();
      if (!matchesAnyKey(credential, acceptedValues(snapshot[secret], now, graceSeconds))) {
        return keyFailure(request, 'mismatch');
      }
      request.context.app.actor = actor;
      if (kind === 'widget') {
        await widgetToken(request, acceptedValues(snapshot['widget-signing-secret'], now, graceSeconds));
      }
    },
  } as MiddlewareObj;
}
