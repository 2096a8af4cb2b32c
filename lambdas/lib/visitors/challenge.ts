/**
 * The proof of work a browser pays for a visitor token (design §14): an ALTCHA challenge
 * (`{algorithm, challenge, maxnumber, salt, signature}`, SHA-256, made by `altcha-lib`), whose salt
 * carries its expiry and whose signature is an HMAC under a key derived from the widget signing
 * secret, so it rotates with that secret. The solution is checked here rather than with
 * `verifySolution`, which compares signatures with `===` and reads the wall clock: the same
 * library function rebuilds the challenge, the comparison is constant-time and the clock is ours.
 */
import { hkdfSync, timingSafeEqual } from 'node:crypto';
import { createChallenge, extractParams } from 'altcha-lib/v1';
import * as z from 'zod';
import { ChallengeFailedError } from '../errors.js';

/** How long a challenge may be solved and redeemed (design §14). */
export const CHALLENGE_LIFETIME_SECONDS = 300;
/** The one algorithm we issue and accept. */
export const CHALLENGE_ALGORITHM = 'SHA-256';
/** The longest `pow` payload read (a genuine one is about 300 characters). */
export const MAX_PAYLOAD_CHARS = 2048;

/** HKDF `info`: binds the derived key to this one use of the signing secret. */
const KEY_INFO = 'chat-widget visitor-challenge v1';
const HEX64 = /^[0-9a-f]{64}$/;

/** A challenge as `GET /v1/visitor-tokens/challenge` returns it. */
export interface VisitorChallenge {
  readonly algorithm: typeof CHALLENGE_ALGORITHM;
  /** Hex SHA-256 of `salt` followed by the secret number. */
  readonly challenge: string;
  /** The secret number lies in 1..maxnumber. */
  readonly maxnumber: number;
  /** Random hex, then `?expires=<epoch seconds>&`. */
  readonly salt: string;
  /** Hex HMAC-SHA-256 of `challenge`. */
  readonly signature: string;
}

/** A solution that checked out: the challenge it solves (the single-use key) and when it expires. */
export interface VerifiedSolution {
  readonly challenge: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

/** The HMAC key for challenges, derived (HKDF-SHA-256, RFC 5869) from one widget signing secret value. */
export function challengeKey(signingSecret: string): string {
  return Buffer.from(hkdfSync('sha256', signingSecret, '', KEY_INFO, 32)).toString('hex');
}

/** Makes a challenge hiding a random number in 1..`maxNumber`, expiring `CHALLENGE_LIFETIME_SECONDS` after `nowMs`. */
export async function createVisitorChallenge(key: string, maxNumber: number, nowMs: number): Promise<VisitorChallenge> {
  const made = await createChallenge({
    algorithm: CHALLENGE_ALGORITHM,
    hmacKey: key,
    maxnumber: maxNumber,
    expires: new Date(nowMs + CHALLENGE_LIFETIME_SECONDS * 1000),
  });
  return {
    algorithm: CHALLENGE_ALGORITHM,
    challenge: made.challenge,
    maxnumber: maxNumber,
    salt: made.salt,
    signature: made.signature,
  };
}

/** The fields of a solution payload we read; others (`took`, `worker`) are ignored. */
const payloadSchema = z.object({
  algorithm: z.string(),
  challenge: z.string().regex(HEX64),
  number: z.number().int().nonnegative(),
  salt: z.string().min(1).max(512),
  signature: z.string().regex(HEX64),
});

const sameHex = (a: string, b: string): boolean => timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));

/**
 * Checks a solution: the base64 JSON payload of ALTCHA (`{algorithm, challenge, number, salt,
 * signature}`), signed under one of `keys` (current, then previous), not expired at `nowMs`, with
 * `number` in 0..`maxNumber` and SHA-256(`salt` + `number`) equal to `challenge`. Whether it was
 * used before is the caller's question. Throws `ChallengeFailedError` with the reason.
 */
export async function verifyVisitorSolution(
  pow: string,
  keys: readonly string[],
  maxNumber: number,
  nowMs: number,
): Promise<VerifiedSolution> {
  if (pow.length > MAX_PAYLOAD_CHARS || !/^[A-Za-z0-9+/]+={0,2}$/.test(pow))
    throw new ChallengeFailedError('malformed');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(pow, 'base64').toString('utf8'));
  } catch (error) {
    throw new ChallengeFailedError('malformed', { cause: error });
  }
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) throw new ChallengeFailedError('malformed');
  const payload = parsed.data;
  if (payload.algorithm !== CHALLENGE_ALGORITHM) throw new ChallengeFailedError('algorithm');
  if (payload.number > maxNumber) throw new ChallengeFailedError('number');
  const expires = extractParams({ ...payload, algorithm: CHALLENGE_ALGORITHM }).expires;
  // Every challenge we issue carries its expiry: one without cannot be ours.
  if (expires === undefined || !/^\d{1,12}$/.test(expires)) throw new ChallengeFailedError('malformed');
  const expiresAt = Number(expires);
  if (expiresAt * 1000 <= nowMs) throw new ChallengeFailedError('expired');

  for (const key of keys) {
    const expected = await createChallenge({
      algorithm: CHALLENGE_ALGORITHM,
      hmacKey: key,
      number: payload.number,
      salt: payload.salt,
    });
    if (!sameHex(expected.challenge, payload.challenge)) throw new ChallengeFailedError('solution');
    if (sameHex(expected.signature, payload.signature)) return { challenge: payload.challenge, expiresAt };
  }
  throw new ChallengeFailedError('signature');
}
