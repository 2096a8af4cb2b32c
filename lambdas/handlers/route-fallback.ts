/**
 * Everything no route takes: CORS preflight on a known path (204 with the allowed methods and
 * headers; the CORS middleware has already refused a disallowed Origin), 405 with `Allow` for a
 * known path and another method, and 404 otherwise. Runs the same chain, so these answers carry
 * the same security headers as any other.
 */
import { MethodNotAllowedError, NotFoundError } from '../lib/errors.js';
import { defineHandler } from '../http/handler.js';
import { empty } from '../http/responses.js';
import { routePath } from '../http/request.js';
import { FALLBACK, resourceFor } from '../http/routes.js';

// `X-Aws-Waf-Token`: the AWS WAF challenge token the widget sends for a visitor token (design §14).
const ALLOWED_REQUEST_HEADERS =
  'Content-Type, Authorization, X-Widget-Api-Key, X-Request-Id, Idempotency-Key, X-Aws-Waf-Token';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export const { handler, build, facts } = defineHandler(FALLBACK, async ({ event, state }) => {
  const found = resourceFor(routePath(event));
  if (!found) throw new NotFoundError('No such route.');
  const allow = [...found.methods, 'OPTIONS'];
  if (event.httpMethod !== 'OPTIONS') throw new MethodNotAllowedError(allow);
  return empty(204, {
    Allow: allow.join(', '),
    ...(state.corsOrigin === undefined
      ? {}
      : {
          'Access-Control-Allow-Methods': allow.join(', '),
          'Access-Control-Allow-Headers': ALLOWED_REQUEST_HEADERS,
          'Access-Control-Max-Age': PREFLIGHT_MAX_AGE_SECONDS,
        }),
  });
});
