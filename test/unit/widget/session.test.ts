import { randomSessionId, storedSession, type KeyValueStore } from '../../../widget/src/session.js';

const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function memoryStore(initial: Record<string, string> = {}): KeyValueStore & { values: Record<string, string> } {
  const values = { ...initial };
  return {
    values,
    getItem: (key) => values[key] ?? null,
    setItem: (key, value) => {
      values[key] = value;
    },
  };
}

const broken: KeyValueStore = {
  getItem: () => {
    throw new Error('SecurityError');
  },
  setItem: () => {
    throw new Error('QuotaExceededError');
  },
};

describe('randomSessionId', () => {
  it('It should make 128-bit ids the API accepts, different every time', () => {
    const ids = Array.from({ length: 50 }, () => randomSessionId());
    for (const id of ids) expect(id).toMatch(/^w-[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('storedSession', () => {
  it('It should create an id once and keep it in storage', () => {
    const store = memoryStore();
    const session = storedSession(() => store, 'k');
    const id = session.id();
    expect(id).toMatch(SESSION_ID);
    expect(session.id()).toBe(id);
    expect(store.values.k).toBe(id);
  });

  it('It should continue the stored session after a reload', () => {
    const store = memoryStore({ k: 'w-0123456789abcdef0123456789abcdef' });
    expect(storedSession(() => store, 'k').id()).toBe('w-0123456789abcdef0123456789abcdef');
  });

  it.each([['has spaces'], ['<script>'], ['x'.repeat(129)], ['']])(
    'It should replace a stored value the API would refuse (%j)',
    (stored) => {
      const store = memoryStore({ k: stored });
      const id = storedSession(() => store, 'k').id();
      expect(id).not.toBe(stored);
      expect(id).toMatch(/^w-[0-9a-f]{32}$/);
      expect(store.values.k).toBe(id);
    },
  );

  it('It should start a new session on renew and store it', () => {
    const store = memoryStore();
    const session = storedSession(() => store, 'k');
    const first = session.id();
    session.renew();
    expect(session.id()).not.toBe(first);
    expect(store.values.k).toBe(session.id());
  });

  it('It should keep the id in memory when storage throws', () => {
    const session = storedSession(() => broken, 'k');
    const id = session.id();
    expect(id).toMatch(/^w-[0-9a-f]{32}$/);
    expect(session.id()).toBe(id);
  });
});
