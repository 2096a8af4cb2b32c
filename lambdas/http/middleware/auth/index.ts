/**
 * Step 5: authentication. Each route names the credential it takes: the publishable widget key
 * (`widget-key.ts`, with an optional or required widget token, `widget-token.ts`) or a bearer key
 * holding the route's role (`bearer-key.ts`). `Authorization` is parsed once per request
 * (`authorization.ts`) and handed to the check that needs it. Every refusal takes the one failure
 * path (`failure.ts`): counted towards the client's lockout, audited (`auth.failure`,
 * `key.rejected`, `token.invalid`), answered 401 (or 429 once locked out); a valid key without
 * the route's role is 403.
 */
import type { MiddlewareObj } from '@middy/core';
import type { ApiKeyVerifier } from '../../../lib/api-keys.js';
import type { AuditLog } from '../../../lib/audit.js';
import type { Role } from '../../../lib/roles.js';
import type { SecretProvider } from '../../../lib/secrets.js';
import type { TokenPolicy } from '../../../lib/tokens.js';
import type { AppRequest } from '../../request.js';
import type { AuthKind } from '../../routes.js';
import { readAuthorization } from './authorization.js';
import { checkBearerKey } from './bearer-key.js';
import { failures as failurePath, type Lockout } from './failure.js';
import { checkWidgetKey } from './widget-key.js';
import { checkWidgetToken } from './widget-token.js';

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
  readonly lockout?: Lockout;
  readonly audit: AuditLog;
  readonly clock: () => number;
}

/** Creates the authentication middleware for one route. */
export function auth(options: AuthOptions): MiddlewareObj {
  const { kind, secrets, graceSeconds, audit, clock } = options;
  const failures = failurePath({ credential: kind, bearer: kind !== 'widget', lockout: options.lockout, audit, clock });
  const bearer = { secrets, graceSeconds, keys: options.keys, role: options.role ?? (() => 'admin' as const), clock };
  const token = { required: options.requireToken ?? false, policy: options.tokenPolicy ?? { maxTtlSeconds: 0 }, clock };

  return {
    before: async (request: AppRequest) => {
      const authorization = readAuthorization(request.event.headers ?? {});
      if (kind !== 'widget') return checkBearerKey(request, authorization, bearer, failures);
      const signing = await checkWidgetKey(request, { secrets, graceSeconds, clock }, failures);
      await checkWidgetToken(request, authorization, signing, token, failures);
    },
  } as MiddlewareObj;
}
