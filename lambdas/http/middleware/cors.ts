/**
 * Step 3: CORS by allow-list. A request whose `Origin` is not allowed is refused with 403
 * `ORIGIN_NOT_ALLOWED` (and audited) before anything else runs; an allowed one gets its own
 * origin back in `Access-Control-Allow-Origin`. `Vary: Origin` is always sent; credentials
 * are never allowed. Requests without `Origin` (servers, curl) are not cross-origin and pass.
 */
import type { MiddlewareObj } from '@middy/core';
import { type AuditLog } from '../../lib/audit.js';
import { requestEvent } from '../../lib/audit-events.js';
import { OriginNotAllowedError } from '../../lib/errors.js';
import { isOriginAllowed, type OriginRule } from '../../lib/origins.js';
import { appendHeader, type AppRequest } from '../request.js';

/** Response headers a widget script may read. */
export const EXPOSED_HEADERS = [
  'X-Request-Id',
  'Retry-After',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
  'RateLimit',
  'RateLimit-Policy',
].join(', ');

export interface CorsOptions {
  /**
   * The allow-list for this request (widget or admin list); undefined for a request that is no
   * route's (a 404): it gets no grant and no refusal, so no look-alike path borrows a list.
   */
  readonly rulesFor: (request: AppRequest) => readonly OriginRule[] | undefined;
  readonly audit: AuditLog;
  readonly clock: () => number;
}

/** Creates the CORS middleware. */
export function cors(options: CorsOptions): MiddlewareObj {
  const decorate = (request: AppRequest): void => {
    const response = request.response;
    if (!response) return;
    const headers = (response.headers ??= {});
    appendHeader(headers, 'Vary', 'Origin');
    const origin = request.context.app?.corsOrigin;
    if (origin !== undefined) {
      headers['Access-Control-Allow-Origin'] = origin;
      headers['Access-Control-Expose-Headers'] = EXPOSED_HEADERS;
    }
  };

  return {
    before: async (request: AppRequest) => {
      const origin = request.event.headers?.origin;
      if (origin === undefined) return;
      const state = request.context.app;
      const rules = options.rulesFor(request);
      if (rules === undefined) return;
      if (isOriginAllowed(origin, rules)) {
        state.corsOrigin = origin;
        return;
      }
      await options.audit.record(requestEvent(state, 'origin.rejected', options.clock()));
      throw new OriginNotAllowedError();
    },
    after: decorate,
    onError: decorate,
  } as MiddlewareObj;
}
