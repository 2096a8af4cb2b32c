/**
 * Opaque list cursors: the page position is encrypted and authenticated with AES-256-GCM under
 * a key derived (HKDF) from the widget signing secret, and bound to the list it came from, so a
 * tampered, truncated or foreign cursor is rejected as 400 rather than trusted.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ValidationError } from '../lib/errors.js';
import { pagePositionSchema, type PagePosition } from '../lib/page.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const MAX_CURSOR_CHARS = 2048;

const deriveKey = (secret: string): Buffer =>
  Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'chat-widget/list-cursor/v1', 32));

const invalid = () =>
  new ValidationError('The cursor is invalid or does not belong to this list.', [
    { path: 'query.cursor', message: 'Invalid cursor' },
  ]);

/** Encrypts `position` for the list named `scope`, with the current signing secret. */
export function encodeCursor(position: PagePosition, scope: string, secret: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret), iv);
  cipher.setAAD(Buffer.from(scope, 'utf8'));
  const body = Buffer.concat([cipher.update(JSON.stringify(position), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** Decrypts a cursor made by `encodeCursor` for `scope` under any of `secrets`; throws a 400 otherwise. */
export function decodeCursor(cursor: string, scope: string, secrets: readonly string[]): PagePosition {
  if (cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const raw = Buffer.from(cursor, 'base64url');
  if (raw.length <= IV_BYTES + TAG_BYTES) throw invalid();
  for (const secret of secrets) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret), raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(scope, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      const parsed = pagePositionSchema.safeParse(JSON.parse(plain.toString('utf8')));
      if (parsed.success) return parsed.data;
    } catch {
      // Wrong key or tampered bytes: try the next accepted secret.
    }
  }
  throw invalid();
}
