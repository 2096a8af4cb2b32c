/** The publishable widget key (`X-Widget-Api-Key`), compared in constant time with every accepted value. */
import { matchesAnyKey } from '../../../lib/keys.js';
import { acceptedValues, type SecretProvider } from '../../../lib/secrets.js';
import type { AppRequest } from '../../request.js';
import { MAX_CREDENTIAL_CHARS } from './authorization.js';
import type { Failures } from './failure.js';

export interface WidgetKeyOptions {
  readonly secrets: SecretProvider;
  readonly graceSeconds: number;
  readonly clock: () => number;
}

/**
 * Accepts the request's widget key (the caller is then `anonymous`) or fails it (`missing`,
 * `mismatch`). Returns the accepted widget signing secrets, read from the same snapshot at the
 * same instant, for the widget token check.
 */
export async function checkWidgetKey(
  request: AppRequest,
  options: WidgetKeyOptions,
  failures: Failures,
): Promise<readonly string[]> {
  const key = request.event.headers?.['x-widget-api-key'];
  if (key === undefined || key.length === 0 || key.length > MAX_CREDENTIAL_CHARS) {
    return failures.keyFailure(request, 'missing');
  }
  const snapshot = await options.secrets.get();
  const now = options.clock();
  if (!matchesAnyKey(key, acceptedValues(snapshot['widget-api-key'], now, options.graceSeconds))) {
    return failures.keyFailure(request, 'mismatch');
  }
  request.context.app.actor = 'anonymous';
  return acceptedValues(snapshot['widget-signing-secret'], now, options.graceSeconds);
}
