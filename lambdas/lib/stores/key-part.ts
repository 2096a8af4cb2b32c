/**
 * DynamoDB key size limits (AWS: a partition key value is at most 2048 bytes, a sort key value at
 * most 1024 bytes, both as UTF-8; the same holds for index keys). Every key part built from text a
 * caller controls goes through `boundedKeyPart`, so no input can make DynamoDB reject a key (which
 * would surface as a 5xx): short values stay readable, long ones become a fixed-size digest.
 */
import { createHash } from 'node:crypto';

/** AWS limit on a partition key value, in UTF-8 bytes. */
export const MAX_PARTITION_KEY_BYTES = 2048;
/** AWS limit on a sort key value, in UTF-8 bytes. */
export const MAX_SORT_KEY_BYTES = 1024;
/** Default room for one caller-controlled part, leaving the rest of a sort key for prefixes and suffixes. */
export const MAX_KEY_PART_BYTES = 512;

/** Marks a digested part; a value that happens to start with it is digested too, so the two never collide. */
const DIGEST_PREFIX = '~sha256~';

/** The UTF-8 length of `value` in bytes (what DynamoDB measures; dynalite counts UTF-16 units instead). */
export const utf8Bytes = (value: string): number => Buffer.byteLength(value, 'utf8');

/**
 * `value` itself when it is at most `maxBytes` UTF-8 bytes, else `~sha256~<base64url SHA-256>`
 * (51 bytes). Injective up to SHA-256 collisions; `maxBytes` must be at least 51.
 */
export function boundedKeyPart(value: string, maxBytes: number = MAX_KEY_PART_BYTES): string {
  if (utf8Bytes(value) <= maxBytes && !value.startsWith(DIGEST_PREFIX)) return value;
  return `${DIGEST_PREFIX}${createHash('sha256').update(value, 'utf8').digest('base64url')}`;
}
