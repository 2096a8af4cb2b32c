/**
 * Prompt-attack abuse counting (design §13): each attempt counts in the rate limiter, per client
 * address and per verified user; once `GUARDRAIL_ABUSE_LIMIT` attempts are counted in a window,
 * the rate-limit middleware refuses every chat request of that address or user with 429, as it
 * does for the failed-authentication lockout.
 */
import type { Config } from '../config.js';
import { clientKey, type LimitCheck } from '../rate-limiter.js';

/** Who made an attempt: the client address, and the verified user if any. */
export interface AbuseSource {
  readonly ip: string;
  readonly userId?: string;
}

/** The abuse tiers of a caller: per address, and per user when there is one. */
export function abuseChecks(config: Pick<Config, 'guardrail'>, source: AbuseSource): LimitCheck[] {
  const limit = config.guardrail.abuseLimit;
  return [
    { tier: 'prompt-attack-ip', key: clientKey(source.ip), limit },
    ...(source.userId === undefined ? [] : [{ tier: 'prompt-attack-user', key: source.userId, limit }]),
  ];
}
