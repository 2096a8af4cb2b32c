/**
 * DynamoDB key byte limits (partition key ≤ 2048, sort key ≤ 1024 UTF-8 bytes, AWS): every key
 * builder fed caller text stays inside them for any input, multi-byte and astral characters
 * included, and short values keep their readable spelling.
 */
import fc from 'fast-check';
import {
  MAX_KEY_PART_BYTES,
  MAX_PARTITION_KEY_BYTES,
  MAX_SORT_KEY_BYTES,
  boundedKeyPart,
  utf8Bytes,
} from '../../../../lambdas/lib/stores/key-part.js';
import { counterKey } from '../../../../lambdas/lib/stores/rate-limit-store.js';
import { revokedTokenKey, userRevocationKey } from '../../../../lambdas/lib/stores/revocation-store.js';
import { listIndexKey, ownerIndexKey, sessionKey } from '../../../../lambdas/lib/stores/conversation-store.js';
import { budgetCounterId } from '../../../../lambdas/lib/stores/budget-store.js';
import { BUDGET_SCOPES } from '../../../../lambdas/lib/errors.js';

/**
 * Any text: every code point (lone surrogates too), up to far past the limits. `size: 'max'`: by
 * default fast-check keeps strings short (none crossed 1,024 bytes), and the table could not fail.
 */
const anyText = fc.string({ unit: 'binary', maxLength: 3000, size: 'max' });
/** Text of 1–4-byte characters, long enough to cross every limit. */
const multiByte = fc.string({
  unit: fc.constantFrom('a', 'é', '€', '😀'),
  minLength: 100,
  maxLength: 1500,
  size: 'max',
});
/** Short text too, so values kept as they are meet the limits with their prefixes. */
const text = fc.oneof(anyText, multiByte, fc.string({ unit: 'binary', maxLength: MAX_KEY_PART_BYTES }));
const createdAt = fc.integer({ min: 0, max: 4102444800000 }).map((ms) => new Date(ms).toISOString());

/** Every key builder that takes caller text; partition and sort key are the same string in the security table. */
const BUILDERS: ReadonlyArray<[string, fc.Arbitrary<string>, number]> = [
  ['REVOKED#<jti>', text.map(revokedTokenKey), MAX_SORT_KEY_BYTES],
  ['USERREV#<userId>', text.map(userRevocationKey), MAX_SORT_KEY_BYTES],
  [
    'RL#<tier>#<key>#<window>',
    fc
      .tuple(fc.constantFrom('ip', 'session', 'user', 'server-key', 'admin-ip', 'auth-failure'), text, fc.nat())
      .map(([tier, key, window]) => counterKey({ tier, key, window })),
    MAX_SORT_KEY_BYTES,
  ],
  [
    'BUDGET#<scope>#<key>#<day>',
    fc
      .tuple(fc.constantFrom(...BUDGET_SCOPES), text, createdAt)
      .map(([scope, key, at]) => budgetCounterId({ scope, key, day: at.slice(0, 10) })),
    MAX_SORT_KEY_BYTES,
  ],
  ['SESSION#<sessionId>', text.map(sessionKey), MAX_PARTITION_KEY_BYTES],
  ['USER#<userId> (byUser index)', text.map(ownerIndexKey), MAX_PARTITION_KEY_BYTES],
  [
    '<createdAt>#<sessionId> (index sort key)',
    fc.tuple(createdAt, text).map(([at, id]) => listIndexKey(at, id)),
    MAX_SORT_KEY_BYTES,
  ],
];

describe('DynamoDB key builders', () => {
  it.each(BUILDERS)('should keep %s within its byte limit for any input', (_name, keys, limit) => {
    fc.assert(
      fc.property(keys, (key) => utf8Bytes(key) <= limit),
      // No shrinking: a counterexample thousands of characters long takes minutes to shrink.
      { numRuns: 300, endOnFailure: true },
    );
  });
});

describe('boundedKeyPart', () => {
  const digest = /^~sha256~[A-Za-z0-9_-]{43}$/;

  it.each([
    ['a short ASCII value', 'user-42'],
    ['exactly the limit in ASCII', 'a'.repeat(MAX_KEY_PART_BYTES)],
    ['exactly the limit in 4-byte characters', '😀'.repeat(MAX_KEY_PART_BYTES / 4)],
  ])('should keep %s as it is', (_name, value) => {
    // Act
    const part = boundedKeyPart(value);

    // Assess
    expect(part).toBe(value);
  });

  it.each([
    ['one byte over in ASCII', 'a'.repeat(MAX_KEY_PART_BYTES + 1)],
    ['under the limit in characters but over it in bytes', '€'.repeat(MAX_KEY_PART_BYTES / 2)],
    ['the 1,017-character jti of the report', 'j'.repeat(1017)],
    ['a value that spells a digest', `~sha256~${'A'.repeat(43)}`],
  ])('should digest %s', (_name, value) => {
    // Act
    const part = boundedKeyPart(value);

    // Assess
    expect(part).toMatch(digest);
    expect(part).not.toBe(value);
  });

  it('should never map two different values to the same part', () => {
    fc.assert(
      fc.property(text, text, (a, b) => a === b || boundedKeyPart(a) !== boundedKeyPart(b)),
      { numRuns: 300, endOnFailure: true },
    );
  });

  it('should give one value the same part every time', () => {
    fc.assert(fc.property(text, (value) => boundedKeyPart(value) === boundedKeyPart(value)));
  });
});
