/**
 * The rotation Lambda: Secrets Manager calls it four times per rotation (schedule, or "Rotate
 * secret immediately" in the console), once per step. Each step is idempotent, so retries and
 * re-runs are safe. A completed rotation is audited as `secret.rotated`.
 */
import * as z from 'zod';
import { ROTATION_STEPS, runRotationStep } from '../lib/rotation.js';
import { systemEvent } from '../lib/audit-events.js';
import { getLambdaRuntime } from '../lib/runtime.js';
import { SecretsManagerRotationStore } from '../lib/secrets/secrets-manager.js';

/** The fields of the rotation event we use; Secrets Manager may add others (e.g. `RotationToken`). */
const rotationEventSchema = z.object({
  SecretId: z.string().min(1).max(2048),
  ClientRequestToken: z.string().min(32).max(64),
  Step: z.enum(ROTATION_STEPS),
});

let store: SecretsManagerRotationStore | undefined;

/** Runs one rotation step. */
export async function handler(event: unknown): Promise<void> {
  const { SecretId, ClientRequestToken, Step } = rotationEventSchema.parse(event);
  const runtime = getLambdaRuntime();
  store ??= new SecretsManagerRotationStore();
  runtime.logger.info('rotation step', { secretId: SecretId, step: Step, versionId: ClientRequestToken });
  const rotated = await runRotationStep(store, { secretId: SecretId, token: ClientRequestToken, step: Step });
  if (rotated) {
    await runtime.audit.record(
      systemEvent(
        'secret.rotated',
        runtime.clock(),
        { secretId: SecretId.slice(0, 256), versionId: ClientRequestToken },
        ClientRequestToken,
      ),
    );
  }
}
