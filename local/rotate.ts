/**
 * `npm run rotate -- <widget-api-key|admin-api-key|server-api-key|widget-signing-secret>`: runs the
 * rotation Lambda's four steps against the local secret store and prints
 * `{"secret","versionId","rotatedAt"}`. A running server picks the new value up within
 * `SECRET_CACHE_TTL_SECONDS`; the old one keeps working for `SECRET_GRACE_SECONDS`. A second run
 * while one is in progress exits 1 with a message naming the running rotation.
 */
import { loadConfig } from '../lambdas/lib/config.js';
import { rotateNow } from '../lambdas/lib/rotation.js';
import { SECRET_NAMES } from '../lambdas/lib/secrets.js';
import { FileSecretStore, isSecretName, secretFilePath } from './secret-store.js';

async function main(argv: readonly string[]): Promise<number> {
  const [secret, ...rest] = argv;
  if (!isSecretName(secret) || rest.length > 0) {
    process.stderr.write(`usage: npm run rotate -- <${SECRET_NAMES.join('|')}>\n`);
    return 2;
  }
  const config = loadConfig();
  const store = new FileSecretStore(secretFilePath(config.localDataDir));
  await store.ensure();
  // One rotation at a time: a second one now would drop the original value before its grace period ends.
  const versionId = await store.withRotationLock(secret, () => rotateNow(store, secret));
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
