/**
 * Step 1 of the chain: a correlation id (a well-formed `X-Request-Id` is echoed, anything else
 * replaced), the client address from `requestContext.identity.sourceIp` only (in its canonical
 * spelling, so audit, logs and rate-limit keys agree), and one access
 * log line per request (route template, status, duration; never headers, bodies or paths).
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import { canonicalIp } from '../../lib/client-address.js';
import type { Logger } from '../../lib/logger.js';
import type { AppRequest } from '../request.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** What logs and audit events say for a request that matched no route: never the raw path. */
const UNMATCHED = '/{proxy+}';

export interface RequestContextOptions {
  readonly logger: Logger;
  readonly clock: () => number;
}

/** Creates the request-context middleware. Expects lower-cased headers (run after the header normalizer). */
export function requestContext(options: RequestContextOptions): MiddlewareObj {
  const { logger, clock } = options;

  const finish = (request: AppRequest): void => {
    const state = request.context.app;
    if (!state || !request.response) return;
    request.response.headers = { ...request.response.headers, 'X-Request-Id': state.requestId };
    logger.info('request', {
      requestId: state.requestId,
      method: state.method,
      route: state.route,
      status: request.response.statusCode,
      durationMs: clock() - state.startedAt,
      ip: state.ip,
      ...(state.actor ? { actor: state.actor } : {}),
      ...(state.errorCode ? { errorCode: state.errorCode } : {}),
    });
  };

  return {
    before: (request: AppRequest) => {
      const { event } = request;
      const supplied = event.headers?.['x-request-id'];
      request.context.app = {
        requestId: supplied !== undefined && REQUEST_ID.test(supplied) ? supplied : randomUUID(),
        ip: canonicalIp(event.requestContext?.identity?.sourceIp ?? 'unknown'),
        method: event.httpMethod,
        route: event.resource || UNMATCHED,
        startedAt: clock(),
      };
    },
    after: finish,
    onError: finish,
  } as MiddlewareObj;
}
