/**
 * Hand-built JWS compact tokens (RFC 7515 §7.1) for attack tables: every header, claim and
 * signature byte is under the test's control, which no signing library allows.
 */
import { createHmac } from 'node:crypto';

export type Claims = Record<string, unknown>;
export type Header = Record<string, unknown>;

/** base64url of a string as is, or of any other value as JSON. */
export const b64 = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** `header.claims.HMAC(hash, secret)` of the two encoded segments. */
export function forgeJws(header: Header, claims: Claims, secret: string, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

/** Replaces the signature segment of `token` with `transform(bytes)`. */
export function resign(token: string, transform: (sig: Buffer) => Buffer): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  return `${h}.${p}.${transform(Buffer.from(s, 'base64url')).toString('base64url')}`;
}

/** A copy of `sig` with its first bit flipped: always a different signature. */
export const flipFirstBit = (sig: Buffer): Buffer => {
  const copy = Buffer.from(sig);
  copy[0] = copy[0]! ^ 0x01;
  return copy;
};

/** `entries` metadata pairs, keys of `keyChars` and values of `valueChars` characters. */
export const metadata = (entries: number, keyChars = 8, valueChars = 8): Record<string, string> =>
  Object.fromEntries(
    Array.from({ length: entries }, (_, i) => [`${i}`.padStart(keyChars, 'k'), 'v'.repeat(valueChars)]),
  );

/** The other spellings of `token` whose signature decodes to the same bytes (the last character's unused bits). */
export function respellings(token: string): string[] {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const signature = token.split('.')[2]!;
  return [...alphabet]
    .map((char) => `${token.slice(0, -1)}${char}`)
    .filter((spelling) => spelling !== token)
    .filter((spelling) =>
      Buffer.from(spelling.split('.')[2]!, 'base64url').equals(Buffer.from(signature, 'base64url')),
    );
}
