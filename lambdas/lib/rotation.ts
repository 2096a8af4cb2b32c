/**
 * The four rotation steps of Secrets Manager (`createSecret`, `setSecret`, `testSecret`,
 * `finishSecret`) over a small store interface, so the same code rotates secrets in AWS (the
 * rotation Lambda) and in the local file store (`npm run rotate`). Each step is idempotent and
 * makes the checks of AWS's own rotation templates first: rotation enabled, the token staged for
 * this secret, an already-current token is a no-op, the token must be AWSPENDING.
 */
import { generateSecret, secretWeaknesses } from './secret-strength.js';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** What rotation needs from a secret store (Secrets Manager, or the local file). */
export interface RotatableStore {
  /** Whether rotation is enabled, and every version id with its staging labels. */
  describe(
    secretId: string,
  ): Promise<{ rotationEnabled: boolean; versions: Readonly<Record<string, readonly string[]>> }>;
  /** The value of a version by id and/or stage; undefined when there is no such version. */
  getValue(secretId: string, select: { versionId?: string; stage?: string }): Promise<string | undefined>;
  /** Stores `value` as a new version `versionId` labelled AWSPENDING. */
  putPending(secretId: string, versionId: string, value: string): Promise<void>;
  /**
   * Moves AWSCURRENT from `fromVersionId` to `toVersionId` (the old one becomes AWSPREVIOUS) and
   * removes AWSPENDING from `toVersionId`, so no version keeps it once a rotation has finished (a
   * leftover AWSPENDING makes the next rotation fail). Rejects when `fromVersionId` no longer holds
   * AWSCURRENT, as Secrets Manager does.
   */
  promote(secretId: string, toVersionId: string, fromVersionId: string): Promise<void>;
}

/** A rotation request; for the Lambda this is the event Secrets Manager sends. */
export interface RotationRequest {
  readonly secretId: string;
  readonly token: string;
  readonly step: RotationStep;
}

/** Why a rotation step refused to run; the message names the secret and the check, never a value. */
export class RotationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotationError';
  }
}

/** Runs one step; returns true when `finishSecret` promoted the new version (a rotation completed). */
export async function runRotationStep(store: RotatableStore, request: RotationRequest): Promise<boolean> {
  const { secretId, token, step } = request;
  const { rotationEnabled, versions } = await store.describe(secretId);
  if (!rotationEnabled) throw new RotationError(`Secret ${secretId} is not enabled for rotation`);
  const stages = versions[token];
  if (!stages) throw new RotationError(`Secret version ${token} has no stage for rotation of secret ${secretId}`);
  if (stages.includes('AWSCURRENT')) return false;
  if (!stages.includes('AWSPENDING'))
    throw new RotationError(`Secret version ${token} not set as AWSPENDING for rotation of secret ${secretId}`);

  switch (step) {
    case 'createSecret': {
      if ((await store.getValue(secretId, { stage: 'AWSCURRENT' })) === undefined) {
        throw new RotationError(`Secret ${secretId} has no AWSCURRENT version`);
      }
      if ((await store.getValue(secretId, { versionId: token, stage: 'AWSPENDING' })) !== undefined) return false;
      try {
        await store.putPending(secretId, token, generateSecret());
      } catch (error) {
        // A concurrent run of this step stored its value first: keep that one, this run is a no-op.
        if ((await store.getValue(secretId, { versionId: token, stage: 'AWSPENDING' })) !== undefined) return false;
        throw error;
      }
      return false;
    }
    case 'setSecret':
      // Our credentials are only ever checked by this service, which reads both versions: nothing to set.
      return false;
    case 'testSecret': {
      const [pending, current] = await Promise.all([
        store.getValue(secretId, { versionId: token, stage: 'AWSPENDING' }),
        store.getValue(secretId, { stage: 'AWSCURRENT' }),
      ]);
      if (pending === undefined) throw new RotationError(`Secret ${secretId} has no AWSPENDING value for ${token}`);
      const problems = secretWeaknesses(pending);
      if (pending === current) problems.push('equals the current value');
      if (problems.length > 0) throw new RotationError(`The pending value of ${secretId} ${problems.join('; ')}`);
      return false;
    }
    case 'finishSecret': {
      if ((await store.getValue(secretId, { versionId: token, stage: 'AWSPENDING' })) === undefined) {
        throw new RotationError(`Secret ${secretId} has no AWSPENDING value for ${token}`);
      }
      const current = Object.entries(versions).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];
      if (current === undefined) throw new RotationError(`Secret ${secretId} has no AWSCURRENT version`);
      try {
        await store.promote(secretId, token, current);
      } catch (error) {
        // A concurrent run of this step promoted the token first: this run is a no-op.
        if ((await store.describe(secretId)).versions[token]?.includes('AWSCURRENT')) return false;
        throw error;
      }
      return true;
    }
  }
}

/** Runs all four steps in order with a fresh token, as "Rotate secret immediately" does. */
export async function rotateNow(
  store: RotatableStore & { startRotation(secretId: string): Promise<string> },
  secretId: string,
): Promise<string> {
  const token = await store.startRotation(secretId);
  for (const step of ROTATION_STEPS) await runRotationStep(store, { secretId, token, step });
  return token;
}
