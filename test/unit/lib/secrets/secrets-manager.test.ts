/**
 * The Secrets Manager adapters (design §5) against a mocked client: one round trip to load every
 * secret, zero calls on warm requests, stale service then fail-closed, grace from `CreatedDate`,
 * and the four rotation steps as Secrets Manager drives them (idempotent, AWS's own checks first).
 */
import { jest } from '@jest/globals';
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type BatchGetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ZodError } from 'zod';
import { handler as rotateSecretHandler } from '../../../../lambdas/handlers/rotate-secret.js';
import { ServiceUnavailableError } from '../../../../lambdas/lib/errors.js';
import { ROTATION_STEPS, RotationError, runRotationStep, type RotationStep } from '../../../../lambdas/lib/rotation.js';
import {
  SecretsManagerRotationStore,
  SecretsManagerSource,
  secretIdsFor,
} from '../../../../lambdas/lib/secrets/secrets-manager.js';
import { generateSecret, secretWeaknesses } from '../../../../lambdas/lib/secret-strength.js';
import {
  CachingSecretProvider,
  SECRET_NAMES,
  acceptedValues,
  type CachingSecretProviderOptions,
  type SecretName,
} from '../../../../lambdas/lib/secrets.js';
import { FakeClock, T0 } from '../../../helpers/fake-runtime.js';

const sm = mockClient(SecretsManagerClient);
const client = new SecretsManagerClient({ region: 'eu-west-1' });

const PREFIX = 'chat-widget/';
const NAMES = secretIdsFor(PREFIX);
const ARNS = Object.fromEntries(
  SECRET_NAMES.map((name) => [name, `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${PREFIX}${name}-Ab12Cd`]),
) as Record<SecretName, string>;
const TTL_SECONDS = 300;
const MAX_STALE_SECONDS = 3600;
const GRACE_SECONDS = 86400;

interface Version {
  readonly versionId: string;
  readonly value: string;
  readonly created: Date;
}
type Versions = Record<SecretName, Version>;

const versionsOf = (label: string, created: Date): Versions =>
  Object.fromEntries(
    SECRET_NAMES.map((name) => [name, { versionId: `${name}-${label}`, value: generateSecret(), created }]),
  ) as Versions;

const notFound = () => new ResourceNotFoundException({ message: 'no such version', $metadata: {} });

/**
 * Answers like Secrets Manager: the batch lists every current value (in reverse order, so a
 * positional mapping would fail), identified by both name and ARN; AWSPREVIOUS per secret when given.
 */
function serve(current: Versions, previous: Partial<Versions> = {}): void {
  const values: BatchGetSecretValueCommandOutput['SecretValues'] = [...SECRET_NAMES].reverse().map((name) => ({
    ARN: ARNS[name],
    Name: NAMES[name],
    VersionId: current[name].versionId,
    SecretString: current[name].value,
    VersionStages: ['AWSCURRENT'],
    CreatedDate: current[name].created,
  }));
  sm.on(BatchGetSecretValueCommand).resolves({ SecretValues: values, Errors: [] });
  for (const name of SECRET_NAMES) {
    const before = previous[name];
    for (const id of [NAMES[name], ARNS[name]]) {
      const answer = sm.on(GetSecretValueCommand, { SecretId: id, VersionStage: 'AWSPREVIOUS' });
      if (before) {
        answer.resolves({
          ARN: ARNS[name],
          Name: NAMES[name],
          VersionId: before.versionId,
          SecretString: before.value,
          VersionStages: ['AWSPREVIOUS'],
          CreatedDate: before.created,
        });
      } else {
        answer.rejects(notFound());
      }
    }
  }
}

/** Every call the mocked client received. */
const totalCalls = () => sm.calls().length;

beforeEach(() => {
  sm.reset();
});

describe('SecretsManagerSource', () => {
  const created = new Date(T0);
  const earlier = new Date(T0 - 7 * 86400_000);

  it('It should load with exactly one BatchGetSecretValue for all four ids and one AWSPREVIOUS GetSecretValue per secret', async () => {
    // Prepare
    serve(versionsOf('v2', created), versionsOf('v1', earlier));
    const source = new SecretsManagerSource({ secretIds: NAMES, client });

    // Act
    await source.load();

    // Assess
    const batches = sm.commandCalls(BatchGetSecretValueCommand);
    expect(batches).toHaveLength(1);
    expect([...(batches[0]!.args[0].input.SecretIdList ?? [])].sort()).toEqual(Object.values(NAMES).sort());
    const singles = sm.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input);
    expect(singles).toHaveLength(SECRET_NAMES.length);
    expect(singles.map((input) => input.SecretId).sort()).toEqual(Object.values(NAMES).sort());
    for (const input of singles) expect(input.VersionStage).toBe('AWSPREVIOUS');
    expect(totalCalls()).toBe(1 + SECRET_NAMES.length);
  });

  it.each([
    ['names', NAMES],
    ['ARNs', ARNS],
  ])('It should map current and previous values by secret when the ids are %s', async (_label, secretIds) => {
    // Prepare
    const current = versionsOf('v2', created);
    const previous = versionsOf('v1', earlier);
    serve(current, previous);
    const source = new SecretsManagerSource({ secretIds, client });

    // Act
    const snapshot = await source.load();

    // Assess
    for (const name of SECRET_NAMES) {
      expect(snapshot[name]).toEqual({
        current: { versionId: current[name].versionId, value: current[name].value, createdAt: T0 },
        previous: { versionId: previous[name].versionId, value: previous[name].value, createdAt: earlier.getTime() },
      });
    }
  });

  it('It should have no previous version for a secret that was never rotated (ResourceNotFoundException)', async () => {
    // Prepare
    const current = versionsOf('v2', created);
    const previous = versionsOf('v1', earlier);
    serve(current, { 'admin-api-key': previous['admin-api-key'] });
    const source = new SecretsManagerSource({ secretIds: NAMES, client });

    // Act
    const snapshot = await source.load();

    // Assess
    expect(snapshot['admin-api-key'].previous?.value).toBe(previous['admin-api-key'].value);
    for (const name of SECRET_NAMES.filter((n) => n !== 'admin-api-key')) {
      expect(snapshot[name]).toEqual({
        current: { versionId: current[name].versionId, value: current[name].value, createdAt: T0 },
      });
      expect(snapshot[name]).not.toHaveProperty('previous');
    }
  });

  it.each([
    [
      'the batch reports Errors',
      (): void => {
        sm.on(BatchGetSecretValueCommand).resolves({
          SecretValues: [],
          Errors: [{ SecretId: NAMES['server-api-key'], ErrorCode: 'AccessDeniedException', Message: 'denied' }],
        });
      },
      /BatchGetSecretValue failed for chat-widget\/server-api-key \(AccessDeniedException\)/,
    ],
    [
      'the batch has no value for one secret',
      (): void => {
        const current = versionsOf('v2', created);
        sm.on(BatchGetSecretValueCommand).resolves({
          SecretValues: SECRET_NAMES.filter((n) => n !== 'widget-signing-secret').map((name) => ({
            Name: NAMES[name],
            VersionId: current[name].versionId,
            SecretString: current[name].value,
          })),
        });
      },
      /no value for chat-widget\/widget-signing-secret/,
    ],
    [
      'a current value has no SecretString (binary secret)',
      (): void => {
        const current = versionsOf('v2', created);
        sm.on(BatchGetSecretValueCommand).resolves({
          SecretValues: SECRET_NAMES.map((name) => ({
            Name: NAMES[name],
            VersionId: current[name].versionId,
            ...(name === 'widget-api-key' ? {} : { SecretString: current[name].value }),
          })),
        });
      },
      /chat-widget\/widget-api-key has no string value/,
    ],
    [
      'AWSPREVIOUS fails with something other than ResourceNotFoundException',
      (): void => {
        serve(versionsOf('v2', created));
        sm.on(GetSecretValueCommand).rejects(new InternalServiceError({ message: 'boom', $metadata: {} }));
      },
      /boom/,
    ],
  ])('It should throw when %s', async (_label, arrange, message) => {
    // Prepare
    sm.on(GetSecretValueCommand).rejects(notFound());
    arrange();
    const source = new SecretsManagerSource({ secretIds: NAMES, client });

    // Act
    const loading = source.load();

    // Assess
    await expect(loading).rejects.toThrow(message);
  });
});

describe('CachingSecretProvider over Secrets Manager', () => {
  const setup = () => {
    const clock = new FakeClock();
    const onRefreshFailed = jest.fn<NonNullable<CachingSecretProviderOptions['onRefreshFailed']>>();
    const onWeakSecrets = jest.fn<NonNullable<CachingSecretProviderOptions['onWeakSecrets']>>();
    const provider = new CachingSecretProvider({
      source: new SecretsManagerSource({ secretIds: NAMES, client }),
      ttlSeconds: TTL_SECONDS,
      maxStaleSeconds: MAX_STALE_SECONDS,
      production: true,
      clock: clock.now,
      onRefreshFailed,
      onWeakSecrets,
    });
    return { clock, provider, onRefreshFailed, onWeakSecrets };
  };

  it('It should call Secrets Manager on the first get and make zero calls on 100 warm gets within the TTL', async () => {
    // Prepare
    const current = versionsOf('v1', new Date(T0));
    serve(current);
    const { clock, provider } = setup();

    // Act
    const first = await provider.get();
    const afterFirst = totalCalls();
    const warm = [];
    for (let i = 0; i < 100; i += 1) {
      clock.advance(Math.floor((TTL_SECONDS * 1000 - 1) / 100));
      warm.push(await provider.get());
    }

    // Assess
    expect(afterFirst).toBe(1 + SECRET_NAMES.length);
    expect(totalCalls()).toBe(afterFirst);
    expect(first['widget-api-key'].current.value).toBe(current['widget-api-key'].value);
    for (const snapshot of warm) expect(snapshot).toBe(first);
  });

  it('It should share one load between concurrent cold gets', async () => {
    // Prepare
    serve(versionsOf('v1', new Date(T0)));
    const { provider } = setup();

    // Act
    const snapshots = await Promise.all(Array.from({ length: 20 }, () => provider.get()));

    // Assess
    expect(sm.commandCalls(BatchGetSecretValueCommand)).toHaveLength(1);
    expect(totalCalls()).toBe(1 + SECRET_NAMES.length);
    for (const snapshot of snapshots) expect(snapshot).toBe(snapshots[0]);
  });

  it('It should refresh exactly once after the TTL and then serve the rotated values', async () => {
    // Prepare
    const original = versionsOf('v1', new Date(T0));
    serve(original);
    const { clock, provider } = setup();
    await provider.get();
    const rotated = versionsOf('v2', new Date(T0 + 1000));
    sm.reset();
    serve(rotated, original);

    // Act
    clock.advance(TTL_SECONDS * 1000);
    const refreshed = await Promise.all([provider.get(), provider.get(), provider.get()]);
    clock.advance(TTL_SECONDS * 1000 - 1);
    await provider.get();

    // Assess
    expect(sm.commandCalls(BatchGetSecretValueCommand)).toHaveLength(1);
    expect(totalCalls()).toBe(1 + SECRET_NAMES.length);
    for (const snapshot of refreshed) {
      expect(snapshot['widget-api-key'].current.value).toBe(rotated['widget-api-key'].value);
      expect(snapshot['widget-api-key'].previous?.value).toBe(original['widget-api-key'].value);
    }
  });

  it.each([
    ['when the TTL has just passed', TTL_SECONDS * 1000],
    ['half-way through the stale window', (TTL_SECONDS + MAX_STALE_SECONDS / 2) * 1000],
    ['one millisecond before the stale window ends', (TTL_SECONDS + MAX_STALE_SECONDS) * 1000 - 1],
  ])('It should serve the stale values and report "stale" when a refresh fails %s', async (_label, elapsed) => {
    // Prepare
    const original = versionsOf('v1', new Date(T0));
    serve(original);
    const { clock, provider, onRefreshFailed } = setup();
    const first = await provider.get();
    const outage = new InternalServiceError({ message: 'Secrets Manager is down', $metadata: {} });
    sm.on(BatchGetSecretValueCommand).rejects(outage);

    // Act
    clock.advance(elapsed);
    const served = await provider.get();

    // Assess
    expect(served).toBe(first);
    expect(onRefreshFailed).toHaveBeenCalledTimes(1);
    expect(onRefreshFailed).toHaveBeenCalledWith(outage, 'stale');
    expect(sm.commandCalls(BatchGetSecretValueCommand)).toHaveLength(2);
  });

  it.each([
    ['exactly when the stale window ends', (TTL_SECONDS + MAX_STALE_SECONDS) * 1000],
    ['a day later', (TTL_SECONDS + MAX_STALE_SECONDS + 86400) * 1000],
  ])('It should fail closed with SERVICE_UNAVAILABLE and report "none" %s', async (_label, elapsed) => {
    // Prepare
    serve(versionsOf('v1', new Date(T0)));
    const { clock, provider, onRefreshFailed } = setup();
    await provider.get();
    const outage = new InternalServiceError({ message: 'Secrets Manager is down', $metadata: {} });
    sm.on(BatchGetSecretValueCommand).rejects(outage);

    // Act
    clock.advance(elapsed);
    const error = await provider.get().then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503, cause: outage });
    expect(onRefreshFailed).toHaveBeenCalledTimes(1);
    expect(onRefreshFailed).toHaveBeenCalledWith(outage, 'none');
  });

  it('It should fail closed on a cold start when Secrets Manager is down, and recover when it is back', async () => {
    // Prepare
    sm.on(BatchGetSecretValueCommand).rejects(new InternalServiceError({ message: 'down', $metadata: {} }));
    sm.on(GetSecretValueCommand).rejects(notFound());
    const { clock, provider, onRefreshFailed } = setup();
    const cold = provider.get();
    await expect(cold).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    const current = versionsOf('v1', new Date(T0));
    sm.reset();
    serve(current);

    // Act
    clock.advance(1);
    const recovered = await provider.get();

    // Assess
    expect(onRefreshFailed).toHaveBeenCalledWith(expect.anything(), 'none');
    expect(recovered['admin-api-key'].current.value).toBe(current['admin-api-key'].value);
  });

  it.each([
    ['accept', 'at the rotation', 0],
    ['accept', 'one millisecond before the grace ends', GRACE_SECONDS * 1000 - 1],
    ['refuse', 'when the grace ends', GRACE_SECONDS * 1000],
    ['refuse', 'a minute after the grace ends', GRACE_SECONDS * 1000 + 60_000],
  ])(
    'It should %s the previous value %s, counting from the CreatedDate Secrets Manager reports',
    async (verdict, _label, sinceRotation) => {
      // Prepare
      const rotatedAt = T0 - 3_600_000;
      const previous = versionsOf('v1', new Date(rotatedAt - 30 * 86400_000));
      const current = versionsOf('v2', new Date(rotatedAt));
      serve(current, previous);
      const { provider } = setup();
      const snapshot = await provider.get();

      // Act
      const accepted = acceptedValues(snapshot['widget-api-key'], rotatedAt + sinceRotation, GRACE_SECONDS);

      // Assess
      expect(accepted).toEqual(
        verdict === 'accept'
          ? [current['widget-api-key'].value, previous['widget-api-key'].value]
          : [current['widget-api-key'].value],
      );
    },
  );
});

describe('SecretsManagerRotationStore with runRotationStep', () => {
  const SECRET_ID = ARNS['widget-api-key'];
  const TOKEN = 'c0ffee00-1111-4222-8333-444455556666';
  const CURRENT_VERSION = 'aaaaaaaa-1111-4222-8333-444455556666';
  const PREVIOUS_VERSION = 'bbbbbbbb-1111-4222-8333-444455556666';

  interface State {
    readonly rotationEnabled?: boolean;
    readonly stages?: Record<string, string[]>;
    /** The value stored under the token as AWSPENDING; undefined when createSecret has not run. */
    readonly pending?: string;
    readonly current?: string;
  }

  /** Mocks DescribeSecret and GetSecretValue as Secrets Manager answers during a rotation. */
  function arrange(state: State = {}): { current: string } {
    const current = state.current ?? generateSecret();
    sm.on(DescribeSecretCommand, { SecretId: SECRET_ID }).resolves({
      ARN: SECRET_ID,
      RotationEnabled: state.rotationEnabled ?? true,
      VersionIdsToStages: state.stages ?? {
        [PREVIOUS_VERSION]: ['AWSPREVIOUS'],
        [CURRENT_VERSION]: ['AWSCURRENT'],
        [TOKEN]: ['AWSPENDING'],
      },
    });
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' }).resolves({
      VersionId: CURRENT_VERSION,
      SecretString: current,
    });
    if (state.pending !== undefined) {
      sm.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionId: TOKEN, VersionStage: 'AWSPENDING' }).resolves({
        VersionId: TOKEN,
        SecretString: state.pending,
      });
    }
    sm.on(PutSecretValueCommand).resolves({ VersionId: TOKEN });
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    return { current };
  }

  const writes = () =>
    sm.commandCalls(PutSecretValueCommand).length + sm.commandCalls(UpdateSecretVersionStageCommand).length;
  const run = (step: RotationStep, token = TOKEN) =>
    runRotationStep(new SecretsManagerRotationStore(client), { secretId: SECRET_ID, token, step });

  it('It should create a strong 48-character value as AWSPENDING under the token on createSecret', async () => {
    // Prepare
    const { current } = arrange();

    // Act
    const rotated = await run('createSecret');

    // Assess
    expect(rotated).toBe(false);
    const puts = sm.commandCalls(PutSecretValueCommand);
    expect(puts).toHaveLength(1);
    const input = puts[0]!.args[0].input;
    expect(Object.keys(input).sort()).toEqual(['ClientRequestToken', 'SecretId', 'SecretString', 'VersionStages']);
    expect(input).toMatchObject({ SecretId: SECRET_ID, ClientRequestToken: TOKEN, VersionStages: ['AWSPENDING'] });
    expect(input.SecretString!.length).toBeGreaterThanOrEqual(48);
    expect(secretWeaknesses(input.SecretString!)).toEqual([]);
    expect(input.SecretString).not.toBe(current);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });

  it('It should generate a different value on every rotation', async () => {
    // Prepare
    arrange();

    // Act
    await run('createSecret');
    await run('createSecret');

    // Assess
    const [first, second] = sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input.SecretString);
    expect(first).not.toBe(second);
  });

  it('It should make no PutSecretValue when createSecret is re-run and the pending value already exists', async () => {
    // Prepare
    arrange({ pending: generateSecret() });

    // Act
    const rotated = await run('createSecret');

    // Assess
    expect(rotated).toBe(false);
    expect(writes()).toBe(0);
  });

  it('It should refuse createSecret when the secret has no AWSCURRENT value', async () => {
    // Prepare
    arrange();
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ID, VersionStage: 'AWSCURRENT' }).rejects(notFound());

    // Act
    const step = run('createSecret');

    // Assess
    await expect(step).rejects.toThrow(RotationError);
    expect(writes()).toBe(0);
  });

  it('It should do nothing on setSecret', async () => {
    // Prepare
    arrange({ pending: generateSecret() });

    // Act
    const rotated = await run('setSecret');

    // Assess
    expect(rotated).toBe(false);
    expect(writes()).toBe(0);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('It should pass testSecret for a strong pending value that differs from the current one', async () => {
    // Prepare
    arrange({ pending: generateSecret() });

    // Act
    const rotated = await run('testSecret');

    // Assess
    expect(rotated).toBe(false);
    expect(writes()).toBe(0);
  });

  it.each([
    ['too short', 'Zq8#kP2m'],
    ['a dictionary word', 'Xk9mQ2vLpassword7RtN4wYb8JcH3fD6sGz'],
    ['low entropy', 'ababababababababababababababababababab'],
    ['a sequence', 'Xk9mQ2vL7RtN4wYb8JcH3fD6sGz-abcdefg'],
    ['a run of one character', 'Xk9mQ2vL7RtN4wYb8JcH3fD6sGzzzzzzPq'],
  ])('It should fail testSecret with RotationError for a weak pending value (%s)', async (_label, weak) => {
    // Prepare
    expect(secretWeaknesses(weak)).not.toEqual([]);
    arrange({ pending: weak });

    // Act
    const error = await run('testSecret').then(
      () => undefined,
      (e: unknown) => e as Error,
    );

    // Assess
    expect(error).toBeInstanceOf(RotationError);
    expect(error?.message).toContain(SECRET_ID);
    expect(error?.message).not.toContain(weak);
    expect(writes()).toBe(0);
  });

  it('It should fail testSecret with RotationError when the pending value equals the current one', async () => {
    // Prepare
    const same = generateSecret();
    arrange({ pending: same, current: same });

    // Act
    const step = run('testSecret');

    // Assess
    await expect(step).rejects.toThrow(RotationError);
    await expect(run('testSecret')).rejects.toThrow(/equals the current value/);
  });

  it('It should fail testSecret with RotationError when createSecret never stored a pending value', async () => {
    // Prepare
    arrange();

    // Act
    const step = run('testSecret');

    // Assess
    await expect(step).rejects.toThrow(RotationError);
  });

  it('It should move AWSCURRENT to the token, off the old current version, and AWSPENDING off the token on finishSecret, returning true', async () => {
    // Prepare
    arrange({ pending: generateSecret() });

    // Act
    const rotated = await run('finishSecret');

    // Assess
    expect(rotated).toBe(true);
    const updates = sm.commandCalls(UpdateSecretVersionStageCommand);
    expect(updates).toHaveLength(2);
    expect(updates[0]!.args[0].input).toEqual({
      SecretId: SECRET_ID,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: TOKEN,
      RemoveFromVersionId: CURRENT_VERSION,
    });
    // No AWSPENDING is left behind: Secrets Manager moves only the label named
    expect(updates[1]!.args[0].input).toEqual({
      SecretId: SECRET_ID,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: TOKEN,
    });
    expect(sm.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it.each(ROTATION_STEPS.map((step) => [step]))(
    'It should make %s a no-op returning false when the token is already AWSCURRENT',
    async (step) => {
      // Prepare
      arrange({
        pending: generateSecret(),
        stages: { [CURRENT_VERSION]: ['AWSPREVIOUS'], [TOKEN]: ['AWSCURRENT'] },
      });

      // Act
      const rotated = await run(step);

      // Assess
      expect(rotated).toBe(false);
      expect(writes()).toBe(0);
      expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    },
  );

  const refusals: Array<[string, State, RegExp]> = [
    [
      'the token is not a version of the secret',
      { stages: { [CURRENT_VERSION]: ['AWSCURRENT'], [PREVIOUS_VERSION]: ['AWSPREVIOUS'] } },
      /has no stage for rotation/,
    ],
    [
      'the token is staged but not AWSPENDING',
      { stages: { [CURRENT_VERSION]: ['AWSCURRENT'], [TOKEN]: ['AWSPREVIOUS'] } },
      /not set as AWSPENDING/,
    ],
    ['rotation is disabled', { rotationEnabled: false }, /not enabled for rotation/],
  ];
  it.each(
    refusals.flatMap(([label, state, message]) => ROTATION_STEPS.map((step) => [label, step, state, message] as const)),
  )('It should refuse with RotationError when %s (%s) and write nothing', async (_label, step, state, message) => {
    // Prepare
    arrange({ pending: generateSecret(), ...state });

    // Act
    const error = await run(step).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(RotationError);
    expect((error as RotationError).name).toBe('RotationError');
    expect((error as RotationError).message).toMatch(message);
    expect(writes()).toBe(0);
  });
});

describe('the rotate-secret handler', () => {
  const good = {
    SecretId: ARNS['widget-api-key'],
    ClientRequestToken: 'c0ffee00-1111-4222-8333-444455556666',
    Step: 'createSecret',
  };

  it.each([
    ['no event', undefined],
    ['a string', 'createSecret'],
    ['no SecretId', { ...good, SecretId: undefined }],
    ['an empty SecretId', { ...good, SecretId: '' }],
    ['a SecretId longer than 2048 characters', { ...good, SecretId: 'x'.repeat(2049) }],
    ['no ClientRequestToken', { ...good, ClientRequestToken: undefined }],
    ['a ClientRequestToken shorter than 32 characters', { ...good, ClientRequestToken: 'short-token' }],
    ['a ClientRequestToken longer than 64 characters', { ...good, ClientRequestToken: 't'.repeat(65) }],
    ['an unknown Step', { ...good, Step: 'deleteSecret' }],
    ['a Step in the wrong case', { ...good, Step: 'CreateSecret' }],
    ['a numeric ClientRequestToken', { ...good, ClientRequestToken: 1e40 }],
  ])('It should reject a malformed event (%s) before calling Secrets Manager', async (_label, event) => {
    // Act
    const error = await rotateSecretHandler(event).then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess
    expect(error).toBeInstanceOf(ZodError);
    expect(totalCalls()).toBe(0);
  });

  it('It should run the step named by a well-formed event against Secrets Manager', async () => {
    // Prepare
    const previousLevel = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'silent';
    sm.on(DescribeSecretCommand).resolves({
      RotationEnabled: true,
      VersionIdsToStages: {
        'v1-aaaaaaaa-1111-4222-8333-444455556666': ['AWSCURRENT'],
        [good.ClientRequestToken]: ['AWSPENDING'],
      },
    });
    sm.on(GetSecretValueCommand).rejects(notFound());
    sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: generateSecret() });
    sm.on(PutSecretValueCommand).resolves({});

    // Act
    try {
      await rotateSecretHandler({ ...good, RotationToken: 'extra-field-sent-by-secrets-manager' });
    } finally {
      if (previousLevel === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = previousLevel;
    }

    // Assess
    expect(sm.commandCalls(DescribeSecretCommand)[0]?.args[0].input).toEqual({ SecretId: good.SecretId });
    const puts = sm.commandCalls(PutSecretValueCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]!.args[0].input).toMatchObject({
      SecretId: good.SecretId,
      ClientRequestToken: good.ClientRequestToken,
      VersionStages: ['AWSPENDING'],
    });
  });
});
