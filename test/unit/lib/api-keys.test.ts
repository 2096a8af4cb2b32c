import { createHash } from 'node:crypto';
import {
  ApiKeyVerifier,
  KEY_CACHE_SECONDS,
  generateApiKey,
  hashApiKey,
  isManagedKey,
  keyEnvironment,
  keyStatus,
  newKeyId,
  viewOf,
} from '../../../lambdas/lib/api-keys.js';
import type { ApiKeyRecord } from '../../../lambdas/lib/api-keys.js';
import { FakeClock, InMemoryApiKeyStore, T0 } from '../../helpers/fake-runtime.js';

/** Stores a fresh key of `role` and returns it with its record. */
async function stored(
  store: InMemoryApiKeyStore,
  overrides: Partial<ApiKeyRecord> = {},
): Promise<{ key: string; record: ApiKeyRecord }> {
  const { key, hash, prefix } = generateApiKey('test');
  const record: ApiKeyRecord = {
    id: newKeyId(T0),
    name: 'ci',
    role: 'admin:read',
    hash,
    prefix,
    createdBy: 'admin',
    createdAt: T0,
    ...overrides,
  };
  await store.create(record, 50);
  return { key, record };
}

describe('managed key format', () => {
  it.each([
    [true, 'live'],
    [false, 'test'],
  ] as const)('It should tag keys made with production=%s as %s', (production, env) => {
    // Act
    const { key, prefix } = generateApiKey(keyEnvironment(production));

    // Assess
    expect(key).toMatch(new RegExp(`^cwk_${env}_[A-Za-z0-9_-]{43}$`));
    expect(Buffer.from(key.slice(9), 'base64url')).toHaveLength(32);
    expect(prefix).toBe(key.slice(0, 15));
  });

  it('It should store the hex SHA-256 of the whole key, computed independently', () => {
    // Act
    const { key, hash } = generateApiKey('test');

    // Assess
    expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(hashApiKey(key)).toBe(hash);
  });

  it('It should never make the same key twice', () => {
    // Act
    const keys = new Set(Array.from({ length: 200 }, () => generateApiKey('test').key));

    // Assess
    expect(keys.size).toBe(200);
  });

  it.each([
    ['a test key', `cwk_test_${'A'.repeat(43)}`, true],
    ['a live key', `cwk_live_${'-_'.repeat(21)}x`, true],
    ['another environment', `cwk_prod_${'A'.repeat(43)}`, false],
    ['a short random part', `cwk_test_${'A'.repeat(42)}`, false],
    ['a long random part', `cwk_test_${'A'.repeat(44)}`, false],
    ['a character outside base64url', `cwk_test_${'A'.repeat(42)}+`, false],
    ['no prefix', 'A'.repeat(52), false],
    ['an upper-case prefix', `CWK_TEST_${'A'.repeat(43)}`, false],
  ])('It should tell whether %s has the managed key shape', (_label, credential, expected) => {
    // Act
    const managed = isManagedKey(credential);

    // Assess
    expect(managed).toBe(expected);
  });

  it('It should make ids that sort by creation time', () => {
    // Act
    const ids = [T0, T0 + 1, T0 + 86_400_000].map(newKeyId);

    // Assess
    for (const id of ids) expect(id).toMatch(/^k[0-9a-z]{25}$/);
    expect([...ids].sort()).toEqual(ids);
  });

  it.each([
    ['no expiry and no revocation', {}, 'active'],
    ['an expiry ahead', { expiresAt: T0 + 1 }, 'active'],
    ['an expiry reached', { expiresAt: T0 }, 'expired'],
    ['a revocation', { revokedAt: T0 - 1 }, 'revoked'],
    ['a revocation and an expiry reached', { revokedAt: T0 - 1, expiresAt: T0 - 1 }, 'revoked'],
  ] as const)('It should call a key with %s %s', (_label, overrides, status) => {
    // Prepare
    const record = { id: 'k', name: 'n', role: 'admin', hash: 'h', prefix: 'p', createdBy: 'admin', createdAt: T0 };

    // Act
    const actual = keyStatus({ ...record, ...overrides } as ApiKeyRecord, T0);

    // Assess
    expect(actual).toBe(status);
  });

  it('It should show a key to admins without its digest', () => {
    // Prepare
    const { hash, prefix } = generateApiKey('test');
    const record: ApiKeyRecord = {
      id: 'k1',
      name: 'n',
      role: 'admin',
      hash,
      prefix,
      createdBy: 'admin',
      createdAt: T0,
      expiresAt: T0 + 1000,
    };

    // Act
    const view = viewOf(record, T0);

    // Assess
    expect(view).toEqual({
      id: 'k1',
      name: 'n',
      role: 'admin',
      prefix,
      status: 'active',
      createdBy: 'admin',
      createdAt: new Date(T0).toISOString(),
      expiresAt: new Date(T0 + 1000).toISOString(),
      revokedAt: null,
    });
    expect(JSON.stringify(view)).not.toContain(hash);
  });
});

describe('ApiKeyVerifier', () => {
  const setup = (options: { cacheEntries?: number } = {}) => {
    const clock = new FakeClock();
    const store = new InMemoryApiKeyStore();
    const verifier = new ApiKeyVerifier({ store, clock: clock.now, ...options });
    return { clock, store, verifier };
  };

  it('It should accept a stored key with its role and read the store once while cached', async () => {
    // Prepare
    const { store, verifier } = setup();
    const { key, record } = await stored(store, { role: 'tokens:mint' });

    // Act
    const results = [await verifier.check(key), await verifier.check(key), await verifier.check(key)];

    // Assess
    expect(results).toEqual(Array(3).fill({ outcome: 'accepted', id: record.id, role: 'tokens:mint' }));
    expect(store.lookups).toBe(1);
  });

  it.each([
    ['just before the cache time', KEY_CACHE_SECONDS * 1000 - 1, 'accepted'],
    ['at the cache time', KEY_CACHE_SECONDS * 1000, 'revoked'],
  ])(
    'It should see a revocation made by another instance only after the cache time (%s)',
    async (_label, elapsed, outcome) => {
      // Prepare: another process revokes the key straight in the store.
      const { clock, store, verifier } = setup();
      const { key, record } = await stored(store);
      await verifier.check(key);
      await store.revoke(record.id, clock.now());

      // Act
      clock.advance(elapsed);
      const result = await verifier.check(key);

      // Assess
      expect(result.outcome).toBe(outcome);
    },
  );

  it('It should refuse a key revoked through it at once, even while cached', async () => {
    // Prepare
    const { store, verifier } = setup();
    const { key, record } = await stored(store);
    await verifier.check(key);

    // Act
    const revoked = await verifier.revoke(record.id);
    const result = await verifier.check(key);

    // Assess
    expect(revoked?.changed).toBe(true);
    expect(result).toEqual({ outcome: 'revoked', id: record.id });
  });

  it.each([
    ['1 ms before its expiry', -1, 'accepted'],
    ['at its expiry', 0, 'expired'],
  ])('It should compare the expiry on every use, cached or not: %s', async (_label, offset, outcome) => {
    // Prepare
    const { clock, store, verifier } = setup();
    const { key } = await stored(store, { expiresAt: T0 + 2000 });
    await verifier.check(key);

    // Act
    clock.set(T0 + 2000 + offset);
    const result = await verifier.check(key);

    // Assess
    expect(result.outcome).toBe(outcome);
    expect(store.lookups).toBe(1);
  });

  it('It should not cache unknown keys, so a new key works at once', async () => {
    // Prepare
    const { store, verifier } = setup();
    const { key } = generateApiKey('test');

    // Act
    const results = [await verifier.check(key), await verifier.check(key)];

    // Assess
    expect(results).toEqual([{ outcome: 'unknown' }, { outcome: 'unknown' }]);
    expect(store.lookups).toBe(2);
  });

  it('It should remember at most cacheEntries keys, dropping the oldest', async () => {
    // Prepare
    const { store, verifier } = setup({ cacheEntries: 2 });
    const keys = [await stored(store), await stored(store), await stored(store)].map((k) => k.key);
    for (const key of keys) await verifier.check(key);
    const before = store.lookups;

    // Act
    await verifier.check(keys[2] as string);
    await verifier.check(keys[1] as string);
    await verifier.check(keys[0] as string);

    // Assess: the first key was evicted and is read again; the other two are cached.
    expect(store.lookups - before).toBe(1);
  });

  it('It should fail when the store cannot answer, never accept', async () => {
    // Prepare
    const { store, verifier } = setup();
    const { key } = await stored(store);
    store.failure = new Error('down');

    // Act
    const result = verifier.check(key);

    // Assess
    await expect(result).rejects.toThrow('down');
  });
});
