import {
  MIN_SECRET_LENGTH,
  bitsPerChar,
  checkSecrets,
  generateSecret,
  secretWeaknesses,
} from '../../../lambdas/lib/secret-strength.js';

/** 32 characters that pass every rule; each case below breaks exactly one. */
const STRONG = 'Qm7vZr2KxT9pLw4NjB8dYs3HgF6cRk1E';
/** Replaces the start of `STRONG` with `prefix`, keeping the length. */
const withPrefix = (prefix: string): string => prefix + STRONG.slice(prefix.length);

const SHORT = 'is shorter than 32 characters';
const ENTROPY = 'has too little entropy (too few distinct characters)';
const RUN = 'repeats a character more than 3 times in a row';
const SEQUENCE = 'contains a sequence such as "abcde" or "12345"';
const WORD = 'contains a dictionary word';

describe('secretWeaknesses', () => {
  it('It should find nothing wrong with a strong value', () => {
    // Act
    const problems = secretWeaknesses(STRONG);

    // Assess
    expect(problems).toEqual([]);
  });

  it.each([
    ['one character too short', STRONG.slice(0, MIN_SECRET_LENGTH - 1), [SHORT]],
    ['empty', '', [SHORT, ENTROPY]],
    ['two alternating characters', 'ab'.repeat(16), [ENTROPY]],
    ['15 distinct characters', `${'Qm7vZr2KxT9pLw4'.repeat(2)}Qm`, [ENTROPY]],
    ['one character in every other position', [...'QmvZrKTpLwNjBdYs'].map((c) => `x${c}`).join(''), [ENTROPY]],
    ['a run of four', withPrefix('aaaa'), [RUN]],
    ['a run of four digits', withPrefix('7777'), [RUN]],
    ['an ascending letter sequence', withPrefix('abcde'), [SEQUENCE]],
    ['an ascending upper-case sequence', withPrefix('ABCDE'), [SEQUENCE]],
    ['a descending letter sequence', withPrefix('edcba'), [SEQUENCE]],
    ['an ascending digit sequence', withPrefix('12345'), [SEQUENCE]],
    ['a descending digit sequence', withPrefix('98765'), [SEQUENCE]],
    ['a mixed-case sequence', withPrefix('aBcDe'), [SEQUENCE]],
    ['the word "password"', withPrefix('password'), [WORD]],
    ['the word "PassWord" in mixed case', withPrefix('PassWord'), [WORD]],
    ['the word "changeme"', withPrefix('changeme'), [WORD]],
    ['the word "secret" in the middle', `${STRONG.slice(0, 13)}secret${STRONG.slice(19)}`, [WORD]],
    ['the word "qwerty"', withPrefix('qwerty'), [WORD]],
    ['the word "admin"', withPrefix('admin'), [WORD]],
    ['the word "letmein"', withPrefix('letmein'), [WORD]],
    ['the word "example"', withPrefix('example'), [WORD]],
  ])('It should flag a value with %s', (_label, value, expected) => {
    // Act
    const problems = secretWeaknesses(value);

    // Assess
    expect(problems).toEqual(expected);
  });

  it.each([
    ['exactly 32 characters', STRONG],
    ['a run of three', withPrefix('aaa')],
    ['a sequence of four', withPrefix('abcd')],
    ['a descending sequence of four', withPrefix('4321')],
  ])('It should accept a value with %s (the limit itself)', (_label, value) => {
    // Act
    const problems = secretWeaknesses(value);

    // Assess
    expect(problems).toEqual([]);
  });

  it('It should report every weakness of a very weak value', () => {
    // Act
    const problems = secretWeaknesses('password');

    // Assess
    expect(problems).toEqual(expect.arrayContaining([SHORT, ENTROPY, WORD]));
  });
});

describe('bitsPerChar', () => {
  it.each([
    ['aaaa', 0],
    ['abab', 1],
    ['abcd', 2],
  ])('It should compute the Shannon entropy of %j as %d bits per character', (value, bits) => {
    // Act
    const result = bitsPerChar(value);

    // Assess
    expect(result).toBeCloseTo(bits);
  });
});

describe('checkSecrets', () => {
  it('It should accept distinct strong secrets', () => {
    // Act
    const problems = checkSecrets({ A: generateSecret(), B: generateSecret(), C: generateSecret() });

    // Assess
    expect(problems).toEqual([]);
  });

  it('It should report two secrets with the same value, naming both', () => {
    // Prepare
    const shared = generateSecret();

    // Act
    const problems = checkSecrets({ 'widget-api-key': shared, 'admin-api-key': generateSecret(), other: shared });

    // Assess
    expect(problems).toEqual(['other has the same value as widget-api-key; every secret must be distinct']);
  });

  it('It should name each weak secret with each of its weaknesses', () => {
    // Act
    const problems = checkSecrets({ good: STRONG, bad: withPrefix('aaaa'), short: 'x1' });

    // Assess
    expect(problems).toEqual(expect.arrayContaining([`bad ${RUN}`, `short ${SHORT}`]));
    expect(problems.every((p) => !p.startsWith('good'))).toBe(true);
  });

  it('It should never include a secret value in any message', () => {
    // Prepare
    const secrets = {
      weak: 'changeme',
      run: withPrefix('aaaa'),
      seq: withPrefix('mnopq'),
      twinA: 'Xy9-password-Qz',
      twinB: 'Xy9-password-Qz',
    };

    // Act
    const problems = checkSecrets(secrets);

    // Assess
    expect(problems.length).toBeGreaterThan(4);
    for (const problem of problems) {
      for (const value of Object.values(secrets)) expect(problem).not.toContain(value);
      expect(problem).not.toMatch(/changeme|aaaa|mnopq|Xy9/);
    }
  });
});

describe('generateSecret', () => {
  it('It should return 48 base64url characters that pass every strength rule', () => {
    // Act
    const secrets = Array.from({ length: 50 }, () => generateSecret());

    // Assess
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]{48}$/);
      expect(secretWeaknesses(secret)).toEqual([]);
    }
  });

  it('It should return a different value on every call', () => {
    // Act
    const secrets = new Set(Array.from({ length: 50 }, () => generateSecret()));

    // Assess
    expect(secrets.size).toBe(50);
  });
});
