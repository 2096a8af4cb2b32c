/**
 * The widget token in `Authorization: Bearer`, on widget routes: verified when present (a bad one
 * is always 401, never a fall-back to anonymous) and required when the route or
 * `REQUIRE_WIDGET_TOKEN` says so; a token bound to an origin only with that request `Origin`
 * (design §14). Never read from the query string or cookies.
 */
import { AppError, InvalidTokenError, UnauthorizedError } from '../../../lib/errors.js';
import { MAX_TOKEN_CHARS, verifyWidgetToken, type TokenPolicy } from '../../../lib/tokens.js';
import { checkTokenOrigin } from '../../../lib/token-origin.js';
import type { AppRequest } from '../../request.js';
import { BEARER_CHALLENGE, type Authorization } from './authorization.js';
import type { Failures } from './failure.js';

export interface WidgetTokenOptions {
  /** Whether a token must be presented. */
  readonly required: boolean;
  readonly policy: TokenPolicy;
  readonly clock: () => number;
}

/** Verifies the token, if any, against the accepted signing secrets; records it and the user on the request state. */
export async function checkWidgetToken(
  request: AppRequest,
  authorization: Authorization,
  signing: readonly string[],
  options: WidgetTokenOptions,
  failures: Failures,
): Promise<void> {
  if (!authorization.present) {
    if (!options.required) return;
    return failures.fail(
      request,
      'token.invalid',
      'missing',
      new UnauthorizedError('A widget token is required.', { headers: BEARER_CHALLENGE }),
    );
  }
  const token = authorization.bearer;
  try {
    if (token === undefined || token.length > MAX_TOKEN_CHARS) throw new InvalidTokenError('malformed_header');
    const verified = await verifyWidgetToken(token, signing, options.policy, options.clock());
    checkTokenOrigin(verified, request.event.headers?.origin);
    request.context.app.token = verified;
    request.context.app.actor = `user:${verified.userId}`;
  } catch (error) {
    if (!(error instanceof AppError) || error.status !== 401) throw error;
    return failures.fail(request, 'token.invalid', 'reason' in error ? String(error.reason) : 'invalid', error);
  }
}
