/**
 * Step 5: authentication. Each route names the credential it takes: the publishable widget key
 * (`X-Widget-Api-Key`) or a bearer key (`Authorization: Bearer`) holding the route's role. Bearer
 * keys are the root admin key (role `admin`) and the root server key (role `tokens:mint`), compared
 * as SHA-256 digests in constant time against the current value and, during the grace period, the
 * previous one; or a managed key (`cwk_…`), found by its SHA-256 digest. A key whose role does not
 * cover the route is 403; a revoked or expired managed key is 401, audited as `key.rejected`. On
 * widget routes an
 * `Authorization: Bearer <widget token>` is verified when present (a bad one is always 401, never
 * a fall-back to anonymous) and required when the route or `REQUIRE_WIDGET_TOKEN` says so.
 * Tokens are read from that header only, never from the query string or cookies. Failures are
 * audited (`auth.failure` for keys, `token.invalid` for tokens) and counted towards the client's
 * failed-authentication lockout.
 */
import type { MiddlewareObj } from '@middy/core';
import { type AuditLog } from '../../lib/audit.js';
import { requestEvent } from '../../lib/audit-events.js';
import { isManagedKey, type ApiKeyVerifier } from '../../lib/api-keys.js';
import { AppError, ForbiddenError, UnauthorizedError } from '../../lib/errors.js';
import { matchesAnyKey } from '../../lib/keys.js';
import type { AppRequest } from '../request.js';
import { roleAllows, type Role } from '../../lib/roles.js';
import { acceptedValues, type SecretName, type SecretProvider } from '../../lib/secrets.js';
import { RateLimitError, type LimitCheck, type RateLimiter } from '../../lib/rate-limiter.js';
import type { AuditType } from '../../lib/audit-events.js';
import { checkTokenOrigin } from '../../lib/token-origin.js';
import { InvalidTokenError, MAX_TOKEN_CHARS, verifyWidgetToken, type TokenPolicy } from '../../lib/tokens.js';

/**
 * The credential a route requires: none, the widget key, or a bearer key on an admin route
 * (`admin`) or on the token route (`server`); which role the bearer key needs is the route's.
 */
export type AuthKind = 'none' | 'widget' | 'admin' | 'server';

const MAX_CREDENTIAL_CHARS = 4096;
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;
const BEARER_CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="chat-widget"' };

/** The root bearer keys from the secret store, the role each holds and the actor it is audited as. */
const ROOT_KEYS: readonly { secret: SecretName; role: Role; actor: string }[] = [
  { secret: 'admin-api-key', role: 'admin', actor: 'admin' },
  { secret: 'server-api-key', role: 'tokens:mint', actor: 'server' },
];

export interface AuthOptions {
  readonly kind: Exclude<AuthKind, 'none'>;
  readonly secrets: SecretProvider;
  readonly graceSeconds: number;
  /** Bearer-key routes: the managed keys. @default none (only the root keys are accepted) */
  readonly keys?: ApiKeyVerifier;
  /** Bearer-key routes: the role the request's route requires. @default `admin` */
  readonly role?: (request: AppRequest) => Role;
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

  const fail = async (
    request: AppRequest,
    type: AuditType,
    reason: string,
    error: AppError,
    detail: Readonly<Record<string, string>> = {},
  ): Promise<never> => {
    const state = request.context.app;
    const lockedOut = await countFailure(request);
    await audit.record(
      requestEvent(state, type, clock(), {
        reason: reason.slice(0, 64),
        credential: type === 'token.invalid' ? 'widget-token' : kind,
        ...detail,
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
      checkTokenOrigin(verified, request.event.headers?.origin);
      request.context.app.token = verified;
      request.context.app.actor = `user:${verified.userId}`;
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 401) throw error;
      return fail(request, 'token.invalid', 'reason' in error ? String(error.reason) : 'invalid', error);
    }
  };

  /** Who a bearer credential is and what role it holds; fails the request when it is nobody. */
  const bearerIdentity = async (request: AppRequest, credential: string): Promise<{ role: Role; actor: string }> => {
    // Managed keys carry 256 random bits: looking one up by its digest reveals nothing a guesser can use.
    if (isManagedKey(credential)) {
      const found = options.keys ? await options.keys.check(credential) : ({ outcome: 'unknown' } as const);
      if (found.outcome === 'accepted') return { role: found.role, actor: `key:${found.id}` };
      if (found.outcome === 'unknown') return keyFailure(request, 'mismatch');
      return fail(request, 'key.rejected', found.outcome, new UnauthorizedError(undefined, { headers: challenge }), {
        keyId: found.id,
      });
    }
    const snapshot = await secrets.get();
    const now = clock();
    // Every root key is compared, so the time taken does not tell which one matched.
    const matches = ROOT_KEYS.map((root) =>
      matchesAnyKey(credential, acceptedValues(snapshot[root.secret], now, graceSeconds)),
    );
    const root = ROOT_KEYS.find((_, index) => matches[index]);
    return root ?? keyFailure(request, 'mismatch');
  };

  return {
    before: async (request: AppRequest) => {
      const credential = presented(kind, request.event.headers ?? {});
      if (credential === undefined) return keyFailure(request, 'missing');
      if (kind !== 'widget') {
        const { role, actor } = await bearerIdentity(request, credential);
        request.context.app.actor = actor;
        if (!roleAllows(role, options.role?.(request) ?? 'admin')) throw new ForbiddenError();
        return;
      }
      const snapshot = await secrets.get();
      const now = clock();
      if (!matchesAnyKey(credential, acceptedValues(snapshot['widget-api-key'], now, graceSeconds))) {
        return keyFailure(request, 'mismatch');
      }
      request.context.app.actor = 'anonymous';
      await widgetToken(request, acceptedValues(snapshot['widget-signing-secret'], now, graceSeconds));
    },
  } as MiddlewareObj;
}
