/**
 * `visitor.challenge_failed` audit events (design §14), at most one per client address and
 * rate-limit window: a one-request tier of the shared rate limiter decides, so the bound holds
 * across instances and a flood of wrong solutions costs one audit item per address.
 */
import { requestEvent, type EventSource } from '../audit-events.js';
import type { AuditLog } from '../audit.js';
import type { Logger } from '../logger.js';
import { clientKey, type RateLimiter } from '../rate-limiter.js';

/** The tier that admits one audited failure per address and window. */
export const CHALLENGE_FAILED_AUDIT_TIER = 'visitor-challenge-audit';

export interface ChallengeFailureDeps {
  readonly rateLimiter: RateLimiter;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly clock: () => number;
}

/** Records that `source` failed the challenge for `reason`, unless its address already did this window. */
export async function recordChallengeFailure(
  deps: ChallengeFailureDeps,
  source: EventSource,
  reason: string,
): Promise<void> {
  let first: boolean;
  try {
    const [result] = await deps.rateLimiter.consume([
      { tier: CHALLENGE_FAILED_AUDIT_TIER, key: clientKey(source.ip), limit: 1 },
    ]);
    first = result?.allowed ?? false;
  } catch (error) {
    // The answer is a 400 either way; this log line keeps the fact.
    deps.logger.warn('visitor challenge failure not audited: the counter store is unavailable', {
      requestId: source.requestId,
      reason,
      error,
    });
    first = false;
  }
  if (first) await deps.audit.record(requestEvent(source, 'visitor.challenge_failed', deps.clock(), { reason }));
}
