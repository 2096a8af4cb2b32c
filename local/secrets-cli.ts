/**
 * `npm run secrets -- show` prints every secret's current and previous value as JSON, so an
 * operator can configure a widget or a customer backend; `npm run secrets -- get NAME` prints one
 * current value (for shell scripts). Environment overrides win over the file, as in the server.
 */
import { loadConfig } from '../lambdas/lib/config.js';
import { EnvOverrideSource } from '../lambdas/lib/secrets/env-secrets.js';
import { SECRET_ENV, SECRET_NAMES } from '../lambdas/lib/secrets.js';
import { FileSecretStore, secretFilePath } from './secret-store.js';

const USAGE = `usage: npm run secrets -- show
       npm run secrets -- get <${Object.values(SECRET_ENV).join('|')}>`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, name] = argv;
  const config = loadConfig();
  const store = new FileSecretStore(secretFilePath(config.localDataDir));
  await store.ensure();
  const snapshot = await new EnvOverrideSource(config.secretOverrides, store).load();
  const byVariable = Object.fromEntries(
    SECRET_NAMES.map((secret) => [
      SECRET_ENV[secret],
      { current: snapshot[secret].current.value, previous: snapshot[secret].previous?.value ?? null },
    ]),
  );
  if (command === 'show' && name === undefined) {
    process.stdout.write(`${JSON.stringify(byVariable, null, 2)}\n`);
    return 0;
  }
  const entry = name === undefined ? undefined : byVariable[name];
  if (command === 'get' && entry) {
    process.stdout.write(`${entry.current}\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  },
);
