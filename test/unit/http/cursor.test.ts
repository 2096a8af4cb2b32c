import { decodeCursor, encodeCursor } from '../../../lambdas/http/cursor.js';
import { ValidationError } from '../../../lambdas/lib/errors.js';
import { generateSecret } from '../../../lambdas/lib/secret-strength.js';
import type { PagePosition } from '../../../lambdas/lib/page.js';

const SCOPE = 'audit\n';
const secret = generateSecret();
const previous = generateSecret();
const position: PagePosition = {
  day: '2025-01-15',
  key: { pk: 'AUDIT#2025-01-15', sk: '2025-01-15T11:00:00Z#x', n: 3 },
};

/** Flips one bit of the decoded cursor at `index` (negative counts from the end). */
function flipByte(cursor: string, index: number): string {
  const raw = Buffer.from(cursor, 'base64url');
  const at = index < 0 ? raw.length + index : index;
  raw[at] = raw[at]! ^ 0x01;
  return raw.toString('base64url');
}

function expectInvalid(decode: () => unknown): void {
  let thrown: unknown;
  try {
    decode();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ValidationError);
  expect(thrown).toMatchObject({
    code: 'VALIDATION_FAILED',
    status: 400,
    details: [{ path: 'query.cursor', message: 'Invalid cursor' }],
  });
}

describe('encodeCursor / decodeCursor', () => {
  it.each([
    ['a day and a key', position],
    ['a day only', { day: '2025-01-14' }],
    ['a key only', { key: { pk: 'USER#u1', n: 0 } }],
    ['an empty position', {}],
  ])('It should round-trip %s', (_label, value) => {
    // Prepare
    const cursor = encodeCursor(value, SCOPE, secret);

    // Act
    const decoded = decodeCursor(cursor, SCOPE, [secret]);

    // Assess
    expect(decoded).toEqual(value);
  });

  it('It should produce opaque base64url that reveals nothing of the position', () => {
    // Act
    const cursor = encodeCursor(position, SCOPE, secret);

    // Assess
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(cursor, 'base64url').toString('latin1')).not.toContain('AUDIT');
    expect(cursor).not.toContain(Buffer.from('AUDIT').toString('base64url').slice(0, 4));
  });

  it('It should produce a different cursor for the same position each time (random IV)', () => {
    // Act
    const a = encodeCursor(position, SCOPE, secret);
    const b = encodeCursor(position, SCOPE, secret);

    // Assess
    expect(a).not.toBe(b);
  });

  it('It should accept a cursor made with the previous secret while both are accepted', () => {
    // Prepare
    const cursor = encodeCursor(position, SCOPE, previous);

    // Act
    const decoded = decodeCursor(cursor, SCOPE, [secret, previous]);

    // Assess
    expect(decoded).toEqual(position);
  });

  const cursor = encodeCursor(position, SCOPE, secret);

  it.each([
    ['a flipped bit in the IV', () => decodeCursor(flipByte(cursor, 0), SCOPE, [secret])],
    ['a flipped bit in the tag', () => decodeCursor(flipByte(cursor, 12), SCOPE, [secret])],
    ['a flipped bit in the first byte of the body', () => decodeCursor(flipByte(cursor, 28), SCOPE, [secret])],
    ['a flipped bit in the last byte', () => decodeCursor(flipByte(cursor, -1), SCOPE, [secret])],
    ['a truncated cursor', () => decodeCursor(cursor.slice(0, -4), SCOPE, [secret])],
    ['only the IV and tag', () => decodeCursor(cursor.slice(0, 38), SCOPE, [secret])],
    ['a cursor with bytes appended', () => decodeCursor(`${cursor}AAAA`, SCOPE, [secret])],
    ['a cursor of another list', () => decodeCursor(cursor, 'conversations\n', [secret])],
    ['a cursor of the same list with another filter', () => decodeCursor(cursor, 'audit\nauth.failure', [secret])],
    ['a cursor made with another secret', () => decodeCursor(cursor, SCOPE, [generateSecret()])],
    ['a cursor made with a previous secret no longer accepted', () => decodeCursor(cursor, SCOPE, [previous])],
    ['no accepted secret at all', () => decodeCursor(cursor, SCOPE, [])],
    ['garbage', () => decodeCursor('hello', SCOPE, [secret])],
    ['an empty string', () => decodeCursor('', SCOPE, [secret])],
    [
      'plain base64url JSON',
      () => decodeCursor(Buffer.from(JSON.stringify(position)).toString('base64url'), SCOPE, [secret]),
    ],
    ['standard base64 with "+"', () => decodeCursor(`${cursor.slice(0, -1)}+`, SCOPE, [secret])],
    ['standard base64 with "/"', () => decodeCursor(`${cursor.slice(0, -1)}/`, SCOPE, [secret])],
    ['padding', () => decodeCursor(`${cursor}=`, SCOPE, [secret])],
    ['a space', () => decodeCursor(`${cursor} `, SCOPE, [secret])],
    ['a percent-encoded character', () => decodeCursor(`${cursor}%41`, SCOPE, [secret])],
    ['over 2048 characters', () => decodeCursor('A'.repeat(2049), SCOPE, [secret])],
  ])('It should refuse %s as VALIDATION_FAILED', (_label, decode) => {
    // Act and assess
    expectInvalid(decode);
  });

  it('It should refuse a genuine cursor whose position does not fit the schema', () => {
    // Prepare
    const forged = encodeCursor({ day: 'yesterday', extra: 1 } as unknown as PagePosition, SCOPE, secret);

    // Act and assess
    expectInvalid(() => decodeCursor(forged, SCOPE, [secret]));
  });

  it('It should refuse a genuine cursor longer than 2048 characters', () => {
    // Prepare
    const big: PagePosition = { key: { a: 'x'.repeat(1000), b: 'y'.repeat(1000) } };
    const oversize = encodeCursor(big, SCOPE, secret);

    // Act and assess
    expect(oversize.length).toBeGreaterThan(2048);
    expectInvalid(() => decodeCursor(oversize, SCOPE, [secret]));
  });
});
