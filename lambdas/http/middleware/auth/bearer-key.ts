/**
 * Bearer keys (`Authorization: Bearer`): the root admin key (role `admin`) and the root server key
 * (role `tokens:mint`), compared as SHA-256 digests in constant time against the current value
 * and, during the grace period, the previous one; or a managed key (`cwk_…`), found by its
 * SHA-256 digest. A key whose role does not cover the route is 403; a revoked or expired managed
 * key is 401, audited as `key.rejected`.
 */
import { isManagedKey, type ApiKeyVerifier } from '../../../lib/api-keys.js';
import { matchesAnyKey } from '../../../lib/keys.js';
import { roleAllows, type Role } from '../../../lib/roles.js';
import { acceptedValues, type SecretName, type SecretProvider } from '../../../lib/secrets.js';
import type { AppRequest } from '../../request.js';
import { MAX_CREDENTIAL_CHARS, type Authorization } from './authorization.js';
import type { Failures } from './failure.js';

/** The root bearer keys from the secret store, the role each holds and the actor it is audited as. */
const ROOT_KEYS: readonly { secret: SecretName; role: Role; actor: string }[] = [
  { secret: 'admin-api-key', role: 'admin', actor: 'admin' },
  { secret: 'server-api-key', role: 'tokens:mint', actor: 'server' },
];

export interface BearerKeyOptions {
  readonly secrets: SecretProvider;
  readonly graceSeconds: number;
  /** The managed keys; without them only the root keys are accepted. */
  readonly keys?: ApiKeyVerifier;
  /** The role the request's route requires. */
  readonly role: (request: AppRequest) => Role;
  readonly clock: () => number;
}

/** Who a bearer credential is and what role it holds; fails the request when it is nobody. */
async function identify(
  request: AppRequest,
  credential: string,
  options: BearerKeyOptions,
  failures: Failures,
): Promise<{ role: Role; actor: string }> {
  // Managed keys carry 256 random bits: looking one up by its digest reveals nothing a guesser can use.
  if (isManagedKey(credential)) {
    const found = options.keys ? await options.keys.check(credential) : ({ outcome: 'unknown' } as const);
    if (found.outcome === 'accepted') return { role: found.role, actor: `key:${found.id}` };
    if (found.outcome === 'unknown') return failures.keyFailure(request, 'mismatch');
    return failures.keyRejected(request, found.outcome, found.id);
  }
  const snapshot = await options.secrets.get();
  const now = options.clock();
  // Every root key is compared, so the time taken does not tell which one matched.
  const matches = ROOT_KEYS.map((root) =>
    matchesAnyKey(credential, acceptedValues(snapshot[root.secret], now, options.graceSeconds)),
  );
  const root = ROOT_KEYS.find((_, index) => matches[index]);
  return root ?? failures.keyFailure(request, 'mismatch');
}

/** Accepts a bearer key that holds the route's role: sets the actor, or fails the request (401/403). */
export async function checkBearerKey(
  request: AppRequest,
  authorization: Authorization,
  options: BearerKeyOptions,
  failures: Failures,
): Promise<void> {
  const credential = authorization.bearer;
  if (credential === undefined || credential.length > MAX_CREDENTIAL_CHARS) {
    return failures.keyFailure(request, 'missing');
  }
  const { role, actor } = await identify(request, credential, options, failures);
  request.context.app.actor = actor;
  if (!roleAllows(role, options.role(request))) failures.forbidden();
}
