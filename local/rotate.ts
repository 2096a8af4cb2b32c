/**
 * `npm run rotate -- <secret> [--force]`: runs the
 * rotation Lambda's four steps against the local secret store and prints
 * `{"secret","versionId","rotatedAt"}`. A running server picks the new value up within
 * `SECRET_CACHE_TTL_SECONDS`; the old one keeps working for `SECRET_GRACE_SECONDS`. A second run
 * while one is in progress, or during the previous rotation's grace period (unless `--force`),
 * exits 1 with a message saying why and when to run it again.
 */
import { loadConfig } from '../lambdas/lib/config.js';
import { rotateNow } from '../lambdas/lib/rotation.js';
import { SECRET_NAMES, type SecretName } from '../lambdas/lib/secrets.js';
import { FileSecretStore, isSecretName, secretFilePath } from './secret-store.js';

/**
 * Refuses a rotation while the previous one's grace period runs: a second rotation now would drop
 * the original value at once (what two runs started together used to do). `--force` skips this,
 * to retire a leaked value (rotate twice in a row).
 */
async function checkGrace(store: FileSecretStore, secret: SecretName, graceSeconds: number): Promise<void> {
  const entry = (await store.load())[secret];
  const graceEndsAt = entry.current.createdAt + graceSeconds * 1000;
  if (entry.previous === undefined || Date.now() >= graceEndsAt) return;
  throw new Error(
    `${secret} was rotated at ${new Date(entry.current.createdAt).toISOString()}; its previous value is accepted ` +
      `until ${new Date(graceEndsAt).toISOString()} (SECRET_GRACE_SECONDS=${graceSeconds}). Rotating again now ` +
      'would revoke it at once: wait until then, or add --force (to retire a leaked value).',
  );
}

async function main(argv: readonly string[]): Promise<number> {
  const [secret, ...rest] = argv;
  const force = rest.length === 1 && rest[0] === '--force';
  if (!isSecretName(secret) || rest.length > (force ? 1 : 0)) {
    process.stderr.write(`usage: npm run rotate -- <${SECRET_NAMES.join('|')}> [--force]\n`);
    return 2;
  }
  const config = loadConfig();
  const store = new FileSecretStore(secretFilePath(config.localDataDir));
  await store.ensure();
  // One rotation at a time, and none during the previous one's grace: the original value keeps working.
  const versionId = await store.withRotationLock(secret, async () => {
    if (!force) await checkGrace(store, secret, config.secretGraceSeconds);
    return rotateNow(store, secret);
  });
  process.stdout.write(`${JSON.stringify({ secret, versionId, rotatedAt: new Date().toISOString() })}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  },
);
