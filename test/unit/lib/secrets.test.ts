import { jest } from '@jest/globals';
import { ConfigurationError, ServiceUnavailableError } from '../../../lambdas/lib/errors.js';
import {
  CachingSecretProvider,
  acceptedValues,
  labelledValues,
  type CachingSecretProviderOptions,
  type SecretEntry,
  type SecretSnapshot,
} from '../../../lambdas/lib/secrets.js';
import { FakeClock, FakeSecretSource, T0, makeKeys, snapshotOf } from '../../helpers/fake-runtime.js';

const GRACE_SECONDS = 86400;
const TTL_SECONDS = 300;
const MAX_STALE_SECONDS = 3600;

describe('acceptedValues', () => {
  const entry: SecretEntry = {
    current: { versionId: 'v2', value: 'current', createdAt: T0 },
    previous: { versionId: 'v1', value: 'previous', createdAt: T0 - 86400_000 },
  };

  it.each([
    ['at the rotation', T0, ['current', 'previous']],
    ['one millisecond before the grace period ends', T0 + GRACE_SECONDS * 1000 - 1, ['current', 'previous']],
    ['exactly when the grace period ends', T0 + GRACE_SECONDS * 1000, ['current']],
    ['after the grace period', T0 + GRACE_SECONDS * 1000 + 1, ['current']],
    ['a year later', T0 + 365 * 86400_000, ['current']],
  ])('It should accept the right values %s', (_label, now, expected) => {
    // Act
    const values = acceptedValues(entry, now, GRACE_SECONDS);

    // Assess
    expect(values).toEqual(expected);
  });

  it('It should never accept the previous value with a grace period of zero', () => {
    // Act
    const values = acceptedValues(entry, T0, 0);

    // Assess
    expect(values).toEqual(['current']);
  });

  it('It should accept only the current value when there is no previous one', () => {
    // Act
    const values = acceptedValues({ current: entry.current }, T0, GRACE_SECONDS);

    // Assess
    expect(values).toEqual(['current']);
  });
});

/** A strong snapshot with a fresh version id set. */
const strongSnapshot = (version = 'v1'): SecretSnapshot => {
  const snapshot = snapshotOf(makeKeys());
  for (const entry of Object.values(snapshot)) {
    Object.assign(entry, { current: { ...entry.current, versionId: `${entry.current.versionId}-${version}` } });
  }
  return snapshot;
};

/** A snapshot whose widget key is weak. */
const weakSnapshot = (version = 'v1'): SecretSnapshot => {
  const snapshot = strongSnapshot(version);
  return {
    ...snapshot,
    'widget-api-key': { current: { versionId: `weak-${version}`, value: 'changeme', createdAt: T0 } },
  };
};

function setup(overrides: Partial<CachingSecretProviderOptions> = {}, snapshot: SecretSnapshot = strongSnapshot()) {
  const clock = new FakeClock();
  const source = new FakeSecretSource(snapshot);
  const onRefreshFailed = jest.fn<NonNullable<CachingSecretProviderOptions['onRefreshFailed']>>();
  const onWeakSecrets = jest.fn<NonNullable<CachingSecretProviderOptions['onWeakSecrets']>>();
  const provider = new CachingSecretProvider({
    source,
    ttlSeconds: TTL_SECONDS,
    maxStaleSeconds: MAX_STALE_SECONDS,
    production: false,
    clock: clock.now,
    onRefreshFailed,
    onWeakSecrets,
    ...overrides,
  });
  return { clock, source, provider, onRefreshFailed, onWeakSecrets };
}

describe('CachingSecretProvider', () => {
  it('It should load once on the first call and make zero loads while fresh', async () => {
    // Prepare
    const { clock, source, provider } = setup();

    // Act
    const first = await provider.get();
    clock.advance(TTL_SECONDS * 1000 - 1);
    const again = await Promise.all([provider.get(), provider.get(), provider.get()]);

    // Assess
    expect(source.loads).toBe(1);
    expect(first).toBe(source.snapshot);
    for (const snapshot of again) expect(snapshot).toBe(first);
  });

  it('It should load again once the TTL has passed, and then be fresh again', async () => {
    // Prepare
    const { clock, source, provider } = setup();
    await provider.get();
    const rotated = strongSnapshot('v2');
    source.snapshot = rotated;

    // Act
    clock.advance(TTL_SECONDS * 1000);
    const refreshed = await provider.get();
    await provider.get();

    // Assess
    expect(source.loads).toBe(2);
    expect(refreshed).toBe(rotated);
  });

  it('It should share one load between concurrent calls', async () => {
    // Prepare
    const { source, provider } = setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const load = source.load.bind(source);
    source.load = async () => {
      await gate;
      return load();
    };

    // Act
    const pending = Array.from({ length: 10 }, () => provider.get());
    release();
    const snapshots = await Promise.all(pending);

    // Assess
    expect(source.loads).toBe(1);
    expect(new Set(snapshots).size).toBe(1);
  });

  it('It should fail closed with 503 when the first load fails', async () => {
    // Prepare
    const { source, provider, onRefreshFailed } = setup();
    const cause = new Error('secrets manager is down');
    source.failure = cause;

    // Act
    const result = provider.get();

    // Assess
    await expect(result).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(result).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503, cause });
    expect(onRefreshFailed).toHaveBeenCalledWith(cause, 'none');
  });

  it('It should serve the stale copy while a refresh fails, up to the maximum staleness', async () => {
    // Prepare
    const { clock, source, provider, onRefreshFailed } = setup();
    const cached = await provider.get();
    const cause = new Error('throttled');
    source.failure = cause;

    // Act
    clock.advance(TTL_SECONDS * 1000);
    const atExpiry = await provider.get();
    clock.set(T0 + (TTL_SECONDS + MAX_STALE_SECONDS) * 1000 - 1);
    const lastStale = await provider.get();

    // Assess
    expect(atExpiry).toBe(cached);
    expect(lastStale).toBe(cached);
    expect(onRefreshFailed).toHaveBeenCalledTimes(2);
    expect(onRefreshFailed).toHaveBeenNthCalledWith(1, cause, 'stale');
    expect(onRefreshFailed).toHaveBeenNthCalledWith(2, cause, 'stale');
  });

  it('It should throw 503 once the stale copy is older than the maximum staleness', async () => {
    // Prepare
    const { clock, source, provider, onRefreshFailed } = setup();
    await provider.get();
    const cause = new Error('throttled');
    source.failure = cause;
    clock.set(T0 + (TTL_SECONDS + MAX_STALE_SECONDS) * 1000);

    // Act
    const result = provider.get();

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'ServiceUnavailableError', code: 'SERVICE_UNAVAILABLE' });
    expect(onRefreshFailed).toHaveBeenCalledWith(cause, 'none');
  });

  it('It should recover as soon as the source answers again', async () => {
    // Prepare
    const { clock, source, provider } = setup();
    await provider.get();
    source.failure = new Error('down');
    clock.advance((TTL_SECONDS + MAX_STALE_SECONDS) * 1000);
    await expect(provider.get()).rejects.toBeInstanceOf(ServiceUnavailableError);

    // Act
    source.failure = undefined;
    const snapshot = await provider.get();

    // Assess
    expect(snapshot).toBe(source.snapshot);
  });

  it('It should refuse weak secrets in production with a ConfigurationError that names them', async () => {
    // Prepare
    const { provider, onRefreshFailed } = setup({ production: true }, weakSnapshot());

    // Act
    const result = provider.get();

    // Assess
    await expect(result).rejects.toBeInstanceOf(ConfigurationError);
    const error = (await result.catch((e: unknown) => e)) as ConfigurationError;
    expect(error.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^widget-api-key \(current\) /)]));
    expect(error.message).not.toContain('changeme');
    expect(onRefreshFailed).toHaveBeenCalledWith(error, 'none');
  });

  it('It should refuse two secrets with the same value in production', async () => {
    // Prepare
    const snapshot = strongSnapshot();
    const shared = snapshot['widget-api-key'].current;
    const twin = { ...snapshot, 'admin-api-key': { current: { ...shared, versionId: 'admin-twin' } } };
    const { provider } = setup({ production: true }, twin);

    // Act
    const result = provider.get();

    // Assess
    await expect(result).rejects.toMatchObject({
      problems: [expect.stringContaining('has the same value as')],
    });
  });

  it('It should refuse a weak previous version in production, since it is still accepted', async () => {
    // Prepare
    const snapshot = strongSnapshot();
    const withWeakPrevious: SecretSnapshot = {
      ...snapshot,
      'admin-api-key': {
        current: snapshot['admin-api-key'].current,
        previous: { versionId: 'old', value: 'changeme', createdAt: T0 - 1000 },
      },
    };
    const { provider } = setup({ production: true }, withWeakPrevious);

    // Act
    const result = provider.get();

    // Assess
    await expect(result).rejects.toBeInstanceOf(ConfigurationError);
  });

  it('It should serve weak secrets in development and warn once per version set', async () => {
    // Prepare
    const { clock, source, provider, onWeakSecrets } = setup({ production: false }, weakSnapshot('v1'));

    // Act
    const served = await provider.get();
    clock.advance(TTL_SECONDS * 1000);
    await provider.get();
    clock.advance(TTL_SECONDS * 1000);
    await provider.get();
    const callsForV1 = onWeakSecrets.mock.calls.length;
    source.snapshot = weakSnapshot('v2');
    clock.advance(TTL_SECONDS * 1000);
    await provider.get();

    // Assess
    expect(served['widget-api-key'].current.value).toBe('changeme');
    expect(source.loads).toBe(4);
    expect(callsForV1).toBe(1);
    expect(onWeakSecrets).toHaveBeenCalledTimes(2);
    const [problems] = onWeakSecrets.mock.calls[0]!;
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^widget-api-key \(current\) /)]));
    expect(problems.join('\n')).not.toContain('changeme');
  });

  it('It should not warn about strong secrets', async () => {
    // Prepare
    const { provider, onWeakSecrets } = setup();

    // Act
    await provider.get();

    // Assess
    expect(onWeakSecrets).not.toHaveBeenCalled();
  });
});

describe('labelledValues', () => {
  it('It should label every current value by secret and stage', () => {
    // Prepare
    const snapshot = strongSnapshot();

    // Act
    const labelled = labelledValues(snapshot);

    // Assess
    expect(labelled).toMatchObject({
      'widget-api-key (current)': snapshot['widget-api-key'].current.value,
      'admin-api-key (current)': snapshot['admin-api-key'].current.value,
      'server-api-key (current)': snapshot['server-api-key'].current.value,
      'widget-signing-secret (current)': snapshot['widget-signing-secret'].current.value,
    });
  });
});
