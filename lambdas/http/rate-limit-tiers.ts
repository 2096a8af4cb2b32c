/**
 * Which rate-limit tiers apply to which credential (design §7), in one place:
 * widget routes per client address, per session (and the owner it would serve) and per verified user; `POST /v1/tokens` per
 * key (the root server key, or each managed key on its own); admin routes per client address; and, for every authenticated route, the
 * failed-authentication lockout per client address. IPv6 clients are grouped by /64.
 */
import type { AuthKind } from './routes.js';
import type { Config } from '../lib/config.js';
import { clientKey, type LimitCheck } from '../lib/rate-limiter.js';
import { abuseChecks } from '../lib/guardrails/abuse.js';
import type { AppRequest } from './request.js';
import { sessionIdSchema } from '../lib/schemas.js';
import { ownerOf, sessionOwnerKey } from '../lib/conversation.js';

/** The session a request is about, when it names a well-formed one (validation comes later). */
function sessionOf(request: AppRequest): string | undefined {
  const body = request.context.app.body;
  const candidate =
    request.event.pathParameters?.sessionId ??
    (body !== null && typeof body === 'object' ? (body as Record<string, unknown>).sessionId : undefined);
  return sessionIdSchema.safeParse(candidate).success ? (candidate as string) : undefined;
}

/** The session tier's key: the session and the owner the caller would be (see `sessionOwnerKey`). */
function sessionTierKey(session: string, state: AppRequest['context']['app']): string {
  return sessionOwnerKey(session, ownerOf(state.token?.userId));
}

/**
 * The tiers a request with credential `kind` consumes, plus the route's `extra` tier
 * (`visitor-mint`: visitor tokens minted per client address, design §14).
 */
export function tiersFor(
  kind: AuthKind,
  config: Config,
  extra?: 'visitor-mint',
): (request: AppRequest) => LimitCheck[] {
  const base = credentialTiers(kind, config);
  if (extra === undefined) return base;
  const limit = config.rateLimit.visitorTokenMax;
  return (request) => [...base(request), { tier: extra, key: clientKey(request.context.app.ip), limit }];
}

/** The tiers of the credential alone. */
function credentialTiers(kind: AuthKind, config: Config): (request: AppRequest) => LimitCheck[] {
  const limits = config.rateLimit;
  switch (kind) {
    case 'none':
      return () => [];
    case 'admin':
      return (request) => [{ tier: 'admin-ip', key: clientKey(request.context.app.ip), limit: limits.adminMax }];
    case 'server':
      return (request) => [{ tier: 'server-key', key: request.context.app.actor ?? 'server', limit: limits.tokenMax }];
    case 'widget':
      return (request) => {
        const state = request.context.app;
        const session = sessionOf(request);
        return [
          { tier: 'ip', key: clientKey(state.ip), limit: limits.ipMax },
          ...(session === undefined
            ? []
            : [{ tier: 'session', key: sessionTierKey(session, state), limit: limits.sessionMax }]),
          ...(state.token ? [{ tier: 'user', key: state.token.userId, limit: limits.userMax }] : []),
        ];
      };
  }
}

/** The failed-authentication tier of a request's client. */
export function lockoutFor(config: Config): (request: AppRequest) => LimitCheck {
  return (request) => ({
    tier: 'auth-failure',
    key: clientKey(request.context.app.ip),
    limit: config.rateLimit.authFailureMax,
  });
}

/** The prompt-attack abuse tiers of a widget request's client and user (design §13); none when attacks are not checked. */
export function abuseFor(config: Config): (request: AppRequest) => LimitCheck[] {
  const { provider, promptAttack } = config.guardrail;
  if (provider === 'none' || promptAttack === 'off') return () => [];
  return (request) => abuseChecks(config, { ip: request.context.app.ip, userId: request.context.app.token?.userId });
}
