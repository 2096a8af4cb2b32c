/** Reads and writes the opaque cursors of list endpoints with the widget signing secret. */
import { decodeCursor, encodeCursor } from './cursor.js';
import { ValidationError } from '../lib/errors.js';
import type { Runtime } from '../lib/runtime.js';
import { acceptedValues } from '../lib/secrets.js';
import type { Page, PagePosition } from '../lib/page.js';

/** Decodes `cursor` for the list `scope`; undefined when there is none. */
export async function readCursor(
  runtime: Runtime,
  scope: string,
  cursor: string | undefined,
): Promise<PagePosition | undefined> {
  if (cursor === undefined) return undefined;
  const entry = (await runtime.secrets.get())['widget-signing-secret'];
  return decodeCursor(cursor, scope, acceptedValues(entry, runtime.clock(), runtime.config.secretGraceSeconds));
}

/** The response body of a list: its items and the cursor of the next page (null on the last). */
export async function listBody<T>(
  runtime: Runtime,
  scope: string,
  page: Page<T> | undefined,
): Promise<{ items: T[]; nextCursor: string | null }> {
  if (!page) {
    throw new ValidationError('The cursor is invalid or does not belong to this list.', [
      { path: 'query.cursor', message: 'Invalid cursor' },
    ]);
  }
  if (!page.next) return { items: page.items, nextCursor: null };
  const secret = (await runtime.secrets.get())['widget-signing-secret'].current.value;
  return { items: page.items, nextCursor: encodeCursor(page.next, scope, secret) };
}
