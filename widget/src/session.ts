/**
 * The session id: 128 random bits from `crypto.getRandomValues`, kept in `sessionStorage` so a
 * reload continues the conversation and a new tab starts a new one. Storage that throws
 * (disabled, sandboxed frames) falls back to memory.
 */
import type { Session } from './client.js';

/** What the API accepts as a session id. */
const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A fresh random session id (`w-` and 32 hex digits). */
export function randomSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `w-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The part of `Storage` the session uses. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The session kept under `key` in `storage` (a getter: merely reading `window.sessionStorage` can throw). */
export function storedSession(storage: () => KeyValueStore, key: string): Session {
  let id = '';
  const save = (value: string): void => {
    id = value;
    try {
      storage().setItem(key, value);
    } catch {
      // Memory only: the conversation lasts as long as the page.
    }
  };
  return {
    id: () => {
      if (id === '') {
        let saved: string | null = null;
        try {
          saved = storage().getItem(key);
        } catch {
          saved = null;
        }
        if (saved !== null && SESSION_ID.test(saved)) id = saved;
        else save(randomSessionId());
      }
      return id;
    },
    renew: () => save(randomSessionId()),
  };
}
