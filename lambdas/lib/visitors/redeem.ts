/**
 * Redeeming a proof of work for a visitor token (design §14): the solution must check out under
 * a key derived from a currently accepted signing secret, and its challenge must not have been
 * spent before. Every failure is 400 `CHALLENGE_FAILED`, audited at most once per address and window.
 */
import type { EventSource } from '../audit-events.js';
import { ChallengeFailedError } from '../errors.js';
import type { Config } from '../config.js';
import { acceptedValues, type SecretProvider } from '../secrets.js';
import { challengeKey, verifyVisitorSolution } from './challenge.js';
import { recordChallengeFailure, type ChallengeFailureDeps } from './challenge-failures.js';

/** Storage of spent challenges. */
export interface SpentChallengeStore {
  /** Marks `challenge` spent until `expiresAt` (epoch seconds); false when it already was. */
  spend(challenge: string, expiresAt: number): Promise<boolean>;
}

/** What the challenge keys need of the runtime (a `Runtime` is one). */
export interface ChallengeKeyDeps {
  readonly secrets: SecretProvider;
  readonly config: Pick<Config, 'secretGraceSeconds'>;
  readonly clock: () => number;
}

/** What redeeming a solution needs of the runtime (a `Runtime` is one). */
export interface RedeemDeps extends ChallengeKeyDeps, ChallengeFailureDeps {
  readonly config: Pick<Config, 'secretGraceSeconds'> & { readonly visitor: Pick<Config['visitor'], 'powMaxNumber'> };
  readonly spentChallenges: SpentChallengeStore;
}

/** The HMAC keys challenges verify under: one per accepted widget signing secret, current first. */
export async function challengeKeys(runtime: ChallengeKeyDeps): Promise<string[]> {
  const snapshot = await runtime.secrets.get();
  const values = acceptedValues(snapshot['widget-signing-secret'], runtime.clock(), runtime.config.secretGraceSeconds);
  return values.map(challengeKey);
}

/** Checks and spends the solution `pow` sent by `source`; throws `ChallengeFailedError` when it does not pay. */
export async function redeemSolution(runtime: RedeemDeps, source: EventSource, pow: string | undefined): Promise<void> {
  try {
    if (pow === undefined) throw new ChallengeFailedError('missing');
    const keys = await challengeKeys(runtime);
    const solution = await verifyVisitorSolution(pow, keys, runtime.config.visitor.powMaxNumber, runtime.clock());
    if (!(await runtime.spentChallenges.spend(solution.challenge, solution.expiresAt))) {
      throw new ChallengeFailedError('replayed');
    }
  } catch (error) {
    if (error instanceof ChallengeFailedError) await recordChallengeFailure(runtime, source, error.reason);
    throw error;
  }
}
