/**
 * Step 2: security headers on every response, errors included, computed once at cold start by
 * `@middy/http-security-headers`, narrowed to what a JSON API needs, plus `Cache-Control:
 * no-store` and a short `Permissions-Policy`. HSTS only when `APP_ENV=production`.
 */
import type { MiddlewareObj } from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { AppRequest } from '../request.js';

export interface SecurityHeadersOptions {
  readonly production: boolean;
}

/** The middleware drops falsy directives; its types only admit strings, so `false` is cast once here. */
const OFF = false as unknown as string;

const EXTRA_HEADERS = Object.freeze({
  'Cache-Control': 'no-store',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
});

/** Creates the security-headers middleware. */
export function securityHeaders(options: SecurityHeadersOptions): MiddlewareObj {
  const helmet = httpSecurityHeaders({
    contentSecurityPolicy: {
      'default-src': "'none'",
      'frame-ancestors': "'none'",
      'base-uri': '',
      'form-action': '',
      'report-to': '',
      'require-trusted-types-for': '',
      sandbox: OFF,
      'upgrade-insecure-requests': OFF,
    },
    frameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    contentTypeOptions: { action: 'nosniff' },
    permissionsPolicy: false,
    reportTo: false,
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: options.production ? { maxAge: 31536000, includeSubDomains: true, preload: false } : false,
  });
  const apply = async (request: AppRequest): Promise<void> => {
    if (!request.response) return;
    await helmet.after?.(request);
    Object.assign(request.response.headers ?? {}, EXTRA_HEADERS);
  };
  return { after: apply, onError: apply } as MiddlewareObj;
}
