/**
 * The visitor-token proof of work (design §14) with a frozen clock: challenges as ALTCHA makes
 * them, and a table of solutions that must not pay (wrong number, salt, algorithm, key; expired;
 * outside `maxnumber`; malformed), each refused with 400 `CHALLENGE_FAILED` and its reason.
 */
import { createHmac } from 'node:crypto';
import { createChallenge, solveChallenge } from 'altcha-lib/v1';
import { ChallengeFailedError } from '../../../../lambdas/lib/errors.js';
import {
  CHALLENGE_LIFETIME_SECONDS,
  challengeKey,
  createVisitorChallenge,
  verifyVisitorSolution,
  type VisitorChallenge,
} from '../../../../lambdas/lib/visitors/challenge.js';

/** 2025-01-15T12:00:00Z. */
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const MAX = 2000;
const KEY = challengeKey('current-widget-signing-secret-0123456789abcdef');
const PREVIOUS_KEY = challengeKey('previous-widget-signing-secret-0123456789abcdef');
const OTHER_KEY = challengeKey('attacker-chosen-secret-0123456789abcdef-attacker');

type Payload = Record<string, unknown>;
const encode = (payload: Payload): string => Buffer.from(JSON.stringify(payload)).toString('base64');

/** Finds the hidden number with altcha-lib's own solver, as a client would. */
async function solve(challenge: VisitorChallenge, max = challenge.maxnumber): Promise<number> {
  const solution = await solveChallenge(challenge.challenge, challenge.salt, challenge.algorithm, max).promise;
  if (!solution) throw new Error('unsolvable challenge');
  return solution.number;
}

async function solvedPayload(key = KEY, now = NOW): Promise<Payload> {
  const challenge = await createVisitorChallenge(key, MAX, now);
  return { ...challenge, number: await solve(challenge) };
}

async function reasonOf(pow: string, keys: readonly string[] = [KEY], now = NOW): Promise<string> {
  const error: unknown = await verifyVisitorSolution(pow, keys, MAX, now).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChallengeFailedError);
  const failed = error as ChallengeFailedError;
  expect([failed.status, failed.code]).toEqual([400, 'CHALLENGE_FAILED']);
  return failed.reason;
}

describe('challengeKey', () => {
  it('should derive the same key from the same secret and different keys from different secrets', () => {
    // Prepare / Act
    const again = challengeKey('current-widget-signing-secret-0123456789abcdef');

    // Assess
    expect(again).toBe(KEY);
    expect(KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set([KEY, PREVIOUS_KEY, OTHER_KEY]).size).toBe(3);
    expect(KEY).not.toContain('current-widget-signing-secret');
  });
});

describe('createVisitorChallenge', () => {
  it('should make an ALTCHA SHA-256 challenge signed with the key, expiring after 300 s', async () => {
    // Act
    const challenge = await createVisitorChallenge(KEY, MAX, NOW);

    // Assess
    expect(Object.keys(challenge).sort()).toEqual(['algorithm', 'challenge', 'maxnumber', 'salt', 'signature']);
    expect(challenge.algorithm).toBe('SHA-256');
    expect(challenge.maxnumber).toBe(MAX);
    expect(challenge.salt).toMatch(new RegExp(`^[0-9a-f]{24}\\?expires=${NOW / 1000 + CHALLENGE_LIFETIME_SECONDS}&$`));
    expect(challenge.signature).toBe(createHmac('sha256', KEY).update(challenge.challenge).digest('hex'));
  });

  it('should hide a number from 1 to maxnumber', async () => {
    // Prepare
    const challenges = await Promise.all(Array.from({ length: 5 }, () => createVisitorChallenge(KEY, MAX, NOW)));

    // Act
    const numbers = await Promise.all(challenges.map((c) => solve(c, MAX * 2)));

    // Assess
    for (const n of numbers) expect(n >= 1 && n <= MAX).toBe(true);
  });
});

describe('verifyVisitorSolution', () => {
  it('should accept a genuine solution and name its challenge and expiry', async () => {
    // Prepare
    const payload = await solvedPayload();

    // Act
    const verified = await verifyVisitorSolution(encode({ ...payload, took: 12, worker: true }), [KEY], MAX, NOW);

    // Assess
    expect(verified).toEqual({ challenge: payload.challenge, expiresAt: NOW / 1000 + CHALLENGE_LIFETIME_SECONDS });
  });

  it('should accept a challenge signed with the previous key during rotation', async () => {
    // Prepare
    const payload = await solvedPayload(PREVIOUS_KEY);

    // Act
    const verified = await verifyVisitorSolution(encode(payload), [KEY, PREVIOUS_KEY], MAX, NOW);

    // Assess
    expect(verified.challenge).toBe(payload.challenge);
  });

  it.each([
    ['one second before expiry', CHALLENGE_LIFETIME_SECONDS * 1000 - 1000],
    ['just made', 0],
  ])('should accept a solution %s', async (_name, later) => {
    // Prepare
    const payload = await solvedPayload();

    // Act / Assess
    await expect(verifyVisitorSolution(encode(payload), [KEY], MAX, NOW + later)).resolves.toBeDefined();
  });

  it.each([
    ['at its expiry', CHALLENGE_LIFETIME_SECONDS * 1000],
    ['after its expiry', CHALLENGE_LIFETIME_SECONDS * 1000 + 60_000],
  ])('should refuse a solution %s', async (_name, later) => {
    // Prepare
    const payload = await solvedPayload();

    // Act / Assess
    expect(await reasonOf(encode(payload), [KEY], NOW + later)).toBe('expired');
  });

  it.each<[string, (p: Payload) => Payload, string]>([
    [
      'the wrong number',
      (p) => ({ ...p, number: (p.number as number) === 1 ? 2 : (p.number as number) - 1 }),
      'solution',
    ],
    ['the number as a string', (p) => ({ ...p, number: String(p.number) }), 'malformed'],
    ['a negative number', (p) => ({ ...p, number: -1 }), 'malformed'],
    ['a fractional number', (p) => ({ ...p, number: (p.number as number) + 0.5 }), 'malformed'],
    ['a number above maxnumber', (p) => ({ ...p, number: MAX + 1 }), 'number'],
    ['another salt', (p) => ({ ...p, salt: `00${(p.salt as string).slice(2)}` }), 'solution'],
    [
      'a later expiry in the salt',
      (p) => ({ ...p, salt: (p.salt as string).replace(/expires=\d+/, 'expires=9999999999') }),
      'solution',
    ],
    ['SHA-1', (p) => ({ ...p, algorithm: 'SHA-1' }), 'algorithm'],
    ['SHA-512', (p) => ({ ...p, algorithm: 'SHA-512' }), 'algorithm'],
    ['lower-case sha-256', (p) => ({ ...p, algorithm: 'sha-256' }), 'algorithm'],
    ['another signature', (p) => ({ ...p, signature: 'ab'.repeat(32) }), 'signature'],
    ['an upper-case signature', (p) => ({ ...p, signature: (p.signature as string).toUpperCase() }), 'malformed'],
    ['no signature', ({ signature: _s, ...p }) => p, 'malformed'],
    ['no challenge', ({ challenge: _c, ...p }) => p, 'malformed'],
    ['no number', ({ number: _n, ...p }) => p, 'malformed'],
  ])('should refuse a solution with %s', async (_name, change, reason) => {
    // Prepare
    const payload = change(await solvedPayload());

    // Act / Assess
    expect(await reasonOf(encode(payload))).toBe(reason);
  });

  it('should refuse a challenge signed with another key', async () => {
    // Prepare
    const payload = await solvedPayload(OTHER_KEY);

    // Act / Assess
    expect(await reasonOf(encode(payload), [KEY, PREVIOUS_KEY])).toBe('signature');
  });

  it('should refuse a genuine challenge made for a larger maxnumber with its number above ours', async () => {
    // Prepare: signed with our key, but hiding a number we never issue.
    const made = await createChallenge({
      algorithm: 'SHA-256',
      hmacKey: KEY,
      number: MAX + 5,
      maxnumber: MAX * 10,
      expires: new Date(NOW + 60_000),
    });

    // Act / Assess
    expect(await reasonOf(encode({ ...made, number: MAX + 5 }))).toBe('number');
  });

  it('should refuse a challenge without an expiry, even signed with our key', async () => {
    // Prepare
    const made = await createChallenge({ algorithm: 'SHA-256', hmacKey: KEY, number: 7 });

    // Act / Assess
    expect(await reasonOf(encode({ ...made, number: 7 }))).toBe('malformed');
  });

  it.each([
    ['not base64', '%%%'],
    ['base64 of not JSON', Buffer.from('hello').toString('base64')],
    ['base64 of JSON null', Buffer.from('null').toString('base64')],
    ['too long', 'A'.repeat(4096)],
    ['empty', ''],
  ])('should refuse a payload that is %s', async (_name, pow) => {
    // Act / Assess
    expect(await reasonOf(pow)).toBe('malformed');
  });
});
