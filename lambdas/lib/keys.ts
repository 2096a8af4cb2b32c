/** Constant-time API key comparison. */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * True when `candidate` equals one of `accepted`. Both sides are hashed to SHA-256 first, so the
 * comparison is constant-time and leaks neither length nor prefix; every value is compared.
 */
export function matchesAnyKey(candidate: string, accepted: readonly string[]): boolean {
  const probe = digest(candidate);
  let matched = false;
  for (const value of accepted) {
    matched = timingSafeEqual(probe, digest(value)) || matched;
  }
  return matched;
}
