/**
 * Step 2: security headers on every response, errors included: the table of `../contract.ts`
 * (HSTS only when `APP_ENV=production`), overriding whatever a handler set, and without the
 * headers that fingerprint the server (`Server`, `X-Powered-By`).
 */
import type { MiddlewareObj } from '@middy/core';
import { FINGERPRINT_HEADERS, securityHeaderTable } from '../contract.js';
import type { AppRequest } from '../request.js';

export interface SecurityHeadersOptions {
  readonly production: boolean;
}

/** Creates the security-headers middleware. */
export function securityHeaders(options: SecurityHeadersOptions): MiddlewareObj {
  const table = securityHeaderTable(options.production);
  const apply = async (request: AppRequest): Promise<void> => {
    const response = request.response;
    if (!response) return;
    const headers = (response.headers ??= {});
    for (const name of FINGERPRINT_HEADERS) delete headers[name];
    Object.assign(headers, table);
  };
  return { after: apply, onError: apply } as MiddlewareObj;
}
