import { jest } from '@jest/globals';
import * as crypto from 'node:crypto';
import { generateSecret } from '../../../lambdas/lib/secret-strength.js';

// Wraps the real timingSafeEqual so a test can count comparisons; behaviour is unchanged.
const timingSafeEqual = jest.fn(crypto.timingSafeEqual);
jest.unstable_mockModule('node:crypto', () => ({ ...crypto, default: crypto, timingSafeEqual }));
const { matchesAnyKey } = await import('../../../lambdas/lib/keys.js');

describe('matchesAnyKey', () => {
  const current = generateSecret();
  const previous = generateSecret();

  beforeEach(() => {
    timingSafeEqual.mockClear();
  });

  it.each([
    ['the current key', current],
    ['the previous key', previous],
  ])('It should match %s', (_label, candidate) => {
    // Act
    const matched = matchesAnyKey(candidate, [current, previous]);

    // Assess
    expect(matched).toBe(true);
  });

  it.each([
    ['a prefix of the key', current.slice(0, -1)],
    ['the key with an extra character', `${current}x`],
    ['a suffix of the key', current.slice(1)],
    ['the key with one character changed', `${current.slice(0, -1)}${current.endsWith('A') ? 'B' : 'A'}`],
    ['a key of another length', current.repeat(2)],
    ['the key in another case', current.toUpperCase() === current ? current.toLowerCase() : current.toUpperCase()],
    ['the key with surrounding blanks', ` ${current} `],
    ['both keys joined', current + previous],
    ['an empty string', ''],
    ['another strong key', generateSecret()],
  ])('It should not match %s', (_label, candidate) => {
    // Act
    const matched = matchesAnyKey(candidate, [current, previous]);

    // Assess
    expect(matched).toBe(false);
  });

  it('It should match nothing against an empty list', () => {
    // Act
    const matched = matchesAnyKey(current, []);

    // Assess
    expect(matched).toBe(false);
  });

  it.each([
    ['the first value matches', () => current],
    ['the last value matches', () => previous],
    ['nothing matches', () => 'nope'],
  ])('It should compare every accepted value when %s', (_label, candidate) => {
    // Act
    matchesAnyKey(candidate(), [current, generateSecret(), previous]);

    // Assess
    expect(timingSafeEqual).toHaveBeenCalledTimes(3);
  });

  it('It should compare equal-length digests, whatever the candidate length', () => {
    // Act
    matchesAnyKey('x', [current]);
    matchesAnyKey('x'.repeat(4096), [current]);

    // Assess
    for (const [a, b] of timingSafeEqual.mock.calls) {
      expect((a as Buffer).length).toBe(32);
      expect((b as Buffer).length).toBe(32);
    }
    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
  });
});
