/**
 * The four rotation steps (design §5) against an in-memory store that behaves like Secrets
 * Manager: versions with staging labels, RotateSecret staging an empty AWSPENDING version first,
 * and unlabelled versions no longer reachable by stage. Every step must be idempotent.
 */
import {
  ROTATION_STEPS,
  RotationError,
  rotateNow,
  runRotationStep,
  type RotatableStore,
  type RotationStep,
} from '../../../lambdas/lib/rotation.js';
import { generateSecret, secretWeaknesses } from '../../../lambdas/lib/secret-strength.js';

interface FakeVersion {
  readonly versionId: string;
  value: string | undefined;
  stages: string[];
}

/** An in-memory `RotatableStore` with Secrets Manager's staging semantics; counts every write. */
class InMemoryRotatableStore implements RotatableStore {
  readonly #secrets = new Map<string, FakeVersion[]>();
  readonly #enabled = new Set<string>();
  #nextToken = 0;
  writes = 0;

  /** Adds a secret with one AWSCURRENT version. */
  add(secretId: string, value: string, rotationEnabled = true): void {
    this.#secrets.set(secretId, [{ versionId: `${secretId}-initial`, value, stages: ['AWSCURRENT'] }]);
    if (rotationEnabled) this.#enabled.add(secretId);
  }

  #versions(secretId: string): FakeVersion[] {
    const versions = this.#secrets.get(secretId);
    if (!versions) throw new Error(`ResourceNotFoundException: ${secretId}`);
    return versions;
  }

  async describe(secretId: string) {
    const labelled = this.#versions(secretId).filter((v) => v.stages.length > 0);
    return {
      rotationEnabled: this.#enabled.has(secretId),
      versions: Object.fromEntries(labelled.map((v) => [v.versionId, [...v.stages]])),
    };
  }

  async getValue(secretId: string, select: { versionId?: string; stage?: string }) {
    return this.#versions(secretId).find(
      (v) =>
        (select.versionId === undefined || v.versionId === select.versionId) &&
        (select.stage === undefined || v.stages.includes(select.stage)),
    )?.value;
  }

  async putPending(secretId: string, versionId: string, value: string) {
    await Promise.resolve();
    const version = this.#versions(secretId).find((v) => v.versionId === versionId);
    if (!version) throw new Error(`No version ${versionId}`);
    // Secrets Manager refuses a second, different value for the same ClientRequestToken.
    if (version.value !== undefined) throw new Error(`ResourceExistsException: ${versionId}`);
    this.writes += 1;
    version.value = value;
  }

  /** `UpdateSecretVersionStage` twice, as Secrets Manager runs it: AWSCURRENT moved (AWSPREVIOUS follows), then AWSPENDING removed. */
  async promote(secretId: string, toVersionId: string, fromVersionId: string) {
    await Promise.resolve();
    const versions = this.#versions(secretId);
    if (!versions.find((v) => v.versionId === fromVersionId)?.stages.includes('AWSCURRENT')) {
      throw new Error(`InvalidParameterException: AWSCURRENT is not attached to ${fromVersionId}`);
    }
    this.writes += 1;
    for (const v of versions) {
      if (v.versionId === toVersionId) v.stages = [...v.stages.filter((s) => s !== 'AWSPREVIOUS'), 'AWSCURRENT'];
      else if (v.versionId === fromVersionId) v.stages = ['AWSPREVIOUS'];
      else v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS' && s !== 'AWSCURRENT');
    }
    const to = versions.find((v) => v.versionId === toVersionId);
    if (to) to.stages = to.stages.filter((s) => s !== 'AWSPENDING');
  }

  /** Every label of every version, for assertions. */
  allStages(secretId: string): string[] {
    return this.#versions(secretId).flatMap((v) => v.stages);
  }

  /** What RotateSecret does before calling the Lambda: a new, empty version labelled AWSPENDING. */
  async startRotation(secretId: string): Promise<string> {
    this.writes += 1;
    const versions = this.#versions(secretId);
    for (const v of versions) v.stages = v.stages.filter((s) => s !== 'AWSPENDING');
    this.#nextToken += 1;
    const token = `${secretId}-token-${this.#nextToken}`.padEnd(32, '0');
    versions.push({ versionId: token, value: undefined, stages: ['AWSPENDING'] });
    return token;
  }

  /** The value labelled `stage`, for assertions. */
  valueAt(secretId: string, stage: string): string | undefined {
    return this.#versions(secretId).find((v) => v.stages.includes(stage))?.value;
  }

  /** The labels of one version, for assertions. */
  stagesOf(secretId: string, versionId: string): string[] | undefined {
    return this.#versions(secretId).find((v) => v.versionId === versionId)?.stages;
  }

  /** A deep copy of everything stored, to prove that nothing changed. */
  dump(): unknown {
    return structuredClone([...this.#secrets.entries()]);
  }
}

const SECRET = 'widget-api-key';

/** Every ordering of the four steps. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

function setup() {
  const original = generateSecret();
  const store = new InMemoryRotatableStore();
  store.add(SECRET, original);
  return { store, original };
}

describe('runRotationStep', () => {
  it('It should run a full rotation step by step, reporting completion only from finishSecret', async () => {
    // Prepare
    const { store, original } = setup();
    const token = await store.startRotation(SECRET);

    // Act
    const results: Array<[RotationStep, boolean, string | undefined]> = [];
    for (const step of ROTATION_STEPS) {
      const rotated = await runRotationStep(store, { secretId: SECRET, token, step });
      results.push([step, rotated, store.valueAt(SECRET, 'AWSCURRENT')]);
    }

    // Assess
    expect(results.map(([step, rotated]) => [step, rotated])).toEqual([
      ['createSecret', false],
      ['setSecret', false],
      ['testSecret', false],
      ['finishSecret', true],
    ]);
    // Until finishSecret, clients keep getting the original value as current.
    expect(results.slice(0, 3).map(([, , current]) => current)).toEqual([original, original, original]);
    const rotated = store.valueAt(SECRET, 'AWSCURRENT')!;
    expect(rotated).not.toBe(original);
    expect(rotated.length).toBeGreaterThanOrEqual(48);
    expect(secretWeaknesses(rotated)).toEqual([]);
    expect(store.valueAt(SECRET, 'AWSPREVIOUS')).toBe(original);
    expect(store.stagesOf(SECRET, token)).toEqual(['AWSCURRENT']);
  });

  it('It should store one pending value however often createSecret, setSecret and testSecret are retried', async () => {
    // Prepare
    const { store } = setup();
    const token = await store.startRotation(SECRET);
    const writesBefore = store.writes;
    await runRotationStep(store, { secretId: SECRET, token, step: 'createSecret' });
    const pending = store.valueAt(SECRET, 'AWSPENDING');

    // Act
    for (const step of ['createSecret', 'testSecret', 'setSecret', 'createSecret', 'testSecret'] as const) {
      await runRotationStep(store, { secretId: SECRET, token, step });
    }

    // Assess
    expect(store.writes - writesBefore).toBe(1);
    expect(store.valueAt(SECRET, 'AWSPENDING')).toBe(pending);
  });

  it.each(permutations(ROTATION_STEPS).map((order) => [order.join(' → '), order] as const))(
    'It should change nothing when the steps are re-run after completion in the order %s',
    async (_label, order) => {
      // Prepare
      const { store } = setup();
      const token = await rotateNow(store, SECRET);
      const before = store.dump();
      const writesBefore = store.writes;

      // Act
      const results = [];
      for (const step of order) results.push(await runRotationStep(store, { secretId: SECRET, token, step }));

      // Assess
      expect(results).toEqual([false, false, false, false]);
      expect(store.writes).toBe(writesBefore);
      expect(store.dump()).toEqual(before);
    },
  );

  it.each([
    [
      'a token that was never staged',
      (_store: InMemoryRotatableStore, _token: string) => 'never-staged-token-0000000000000',
    ],
    [
      'the token of an abandoned rotation',
      async (store: InMemoryRotatableStore, token: string) => {
        await store.startRotation(SECRET);
        return token;
      },
    ],
  ])('It should refuse every step for %s', async (_label, pickToken) => {
    // Prepare
    const { store } = setup();
    const token = await pickToken(store, await store.startRotation(SECRET));
    const before = store.dump();

    // Act
    const outcomes = await Promise.all(
      ROTATION_STEPS.map((step) =>
        runRotationStep(store, { secretId: SECRET, token, step }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );

    // Assess
    for (const outcome of outcomes) expect(outcome).toBeInstanceOf(RotationError);
    expect(store.dump()).toEqual(before);
  });

  it('It should fail testSecret with RotationError when createSecret has not stored a pending value', async () => {
    // Prepare
    const { store } = setup();
    const token = await store.startRotation(SECRET);

    // Act
    const testing = runRotationStep(store, { secretId: SECRET, token, step: 'testSecret' });

    // Assess
    await expect(testing).rejects.toThrow(RotationError);
    expect(store.valueAt(SECRET, 'AWSPENDING')).toBeUndefined();
  });
});

describe('rotation steps run twice or at once', () => {
  it('should leave no AWSPENDING label on any version after finishSecret', async () => {
    // Prepare
    const { store } = setup();

    // Act
    const token = await rotateNow(store, SECRET);

    // Assess
    expect(store.allStages(SECRET).sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    expect(store.stagesOf(SECRET, token)).toEqual(['AWSCURRENT']);
  });

  it.each(ROTATION_STEPS.map((step) => [step]))(
    'should make a concurrent second %s a no-op, with one rotation reported',
    async (step) => {
      // Prepare: the steps before this one have run
      const { store, original } = setup();
      const token = await store.startRotation(SECRET);
      for (const earlier of ROTATION_STEPS.slice(0, ROTATION_STEPS.indexOf(step))) {
        await runRotationStep(store, { secretId: SECRET, token, step: earlier });
      }

      // Act
      const outcomes = await Promise.all([
        runRotationStep(store, { secretId: SECRET, token, step }),
        runRotationStep(store, { secretId: SECRET, token, step }),
      ]);
      for (const later of ROTATION_STEPS.slice(ROTATION_STEPS.indexOf(step) + 1)) {
        await runRotationStep(store, { secretId: SECRET, token, step: later });
      }

      // Assess
      expect(outcomes.filter(Boolean)).toHaveLength(step === 'finishSecret' ? 1 : 0);
      expect(store.valueAt(SECRET, 'AWSPREVIOUS')).toBe(original);
      expect(store.allStages(SECRET).sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
    },
  );

  it('should make finishSecret repeated after the rotation a no-op', async () => {
    // Prepare
    const { store } = setup();
    const token = await rotateNow(store, SECRET);
    const before = store.dump();

    // Act
    const rotated = await runRotationStep(store, { secretId: SECRET, token, step: 'finishSecret' });

    // Assess
    expect(rotated).toBe(false);
    expect(store.dump()).toEqual(before);
  });
});

describe('rotateNow', () => {
  it('It should rotate with a fresh token and return it', async () => {
    // Prepare
    const { store, original } = setup();

    // Act
    const token = await rotateNow(store, SECRET);

    // Assess
    expect(store.stagesOf(SECRET, token)).toEqual(['AWSCURRENT']);
    expect(store.valueAt(SECRET, 'AWSCURRENT')).not.toBe(original);
    expect(store.valueAt(SECRET, 'AWSPREVIOUS')).toBe(original);
    expect(store.valueAt(SECRET, 'AWSPENDING')).toBeUndefined();
  });

  it('It should keep the first rotated value as previous and drop the original when rotating twice in a row', async () => {
    // Prepare
    const { store, original } = setup();
    const first = await rotateNow(store, SECRET);
    const firstValue = store.valueAt(SECRET, 'AWSCURRENT');

    // Act
    const second = await rotateNow(store, SECRET);

    // Assess
    expect(second).not.toBe(first);
    const current = store.valueAt(SECRET, 'AWSCURRENT');
    expect(new Set([original, firstValue, current]).size).toBe(3);
    expect(store.valueAt(SECRET, 'AWSPREVIOUS')).toBe(firstValue);
    expect(store.stagesOf(SECRET, first)).toEqual(['AWSPREVIOUS']);
    expect(store.stagesOf(SECRET, `${SECRET}-initial`)).toEqual([]);
    const described = await store.describe(SECRET);
    expect(Object.values(described.versions).flat().sort()).toEqual(['AWSCURRENT', 'AWSPREVIOUS']);
  });

  it('It should rotate only the secret it is given', async () => {
    // Prepare
    const { store } = setup();
    const other = generateSecret();
    store.add('admin-api-key', other);

    // Act
    await rotateNow(store, SECRET);

    // Assess
    expect(store.valueAt('admin-api-key', 'AWSCURRENT')).toBe(other);
    expect(store.valueAt('admin-api-key', 'AWSPREVIOUS')).toBeUndefined();
  });

  it('It should refuse with RotationError and leave the current value when rotation is disabled', async () => {
    // Prepare
    const store = new InMemoryRotatableStore();
    const original = generateSecret();
    store.add(SECRET, original, false);

    // Act
    const rotating = rotateNow(store, SECRET);

    // Assess
    await expect(rotating).rejects.toThrow(RotationError);
    await expect(rotateNow(store, SECRET)).rejects.toThrow(/not enabled for rotation/);
    expect(store.valueAt(SECRET, 'AWSCURRENT')).toBe(original);
    expect(store.valueAt(SECRET, 'AWSPREVIOUS')).toBeUndefined();
  });
});
