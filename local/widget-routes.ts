/**
 * Local-only routes, answered before the Lambda route table and never part of it:
 * - `GET /widget.js`: the widget bundle, built with esbuild on first request;
 * - `GET /demo`: a page embedding the widget against this server (`?mode=token` for token mode);
 * - `POST /demo/token`: a 5-minute widget token for `demo-user`, signed with the local signing
 *   secret, standing in for a customer backend. Same-origin, loopback hosts only.
 * With `APP_ENV=production` only `/widget.js` is served: the demo routes fall through to the
 * route table (404). Every answer carries the API's security headers; the demo page gets a strict
 * nonce-based CSP instead of `default-src 'none'`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { Config } from '../lambdas/lib/config.js';
import { json } from '../lambdas/http/responses.js';
import type { ErrorCode } from '../lambdas/lib/errors.js';
import type { SecretProvider } from '../lambdas/lib/secrets.js';
import { mintWidgetToken } from '../lambdas/lib/tokens.js';
import { errorBody, securityHeaderTable } from '../lambdas/http/contract.js';
import { bundleWidget } from '../widget/build.js';
import { demoPage } from '../widget/demo-page.js';
import { writeResult } from './event-adapter.js';

/** Lifetime of a demo token, in seconds. */
export const DEMO_TOKEN_SECONDS = 300;
/** The user every demo token is for. */
export const DEMO_USER_ID = 'demo-user';

/** Host names a browser on this machine uses for the local server (a guard against DNS rebinding). */
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d{1,5})?$/i;

export interface WidgetRoutesOptions {
  readonly config: Config;
  readonly secrets: SecretProvider;
  readonly clock: () => number;
}

/** Answers a local-only route and returns true, or returns false for the route table to handle. */
export type LocalRoutes = (
  req: IncomingMessage,
  res: ServerResponse,
  target: { path: string; query: URLSearchParams },
) => Promise<boolean>;

function demoCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    // Anonymous mode solves its visitor-token challenge in a worker made from a Blob URL.
    'worker-src blob:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    // The widget never uses an HTML sink; with Trusted Types the browser would refuse one.
    "require-trusted-types-for 'script'",
  ].join('; ');
}

/** Creates the local-only routes; the security headers are computed once, here. */
export async function widgetRoutes(options: WidgetRoutesOptions): Promise<LocalRoutes> {
  const { config } = options;
  const base = securityHeaderTable(config.production);
  let bundle: Promise<string> | undefined;

  const send = async (res: ServerResponse, result: APIGatewayProxyResult): Promise<true> => {
    await writeResult(res, { ...result, headers: { ...base, 'X-Request-Id': randomUUID(), ...result.headers } });
    return true;
  };
  const error = (status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}) =>
    json(status, errorBody(code, message), headers);
  const only = (method: string, req: IncomingMessage): APIGatewayProxyResult | undefined =>
    req.method === method
      ? undefined
      : error(405, 'METHOD_NOT_ALLOWED', 'This method is not allowed on this path.', { Allow: method });

  const widgetJs = async (req: IncomingMessage): Promise<APIGatewayProxyResult> => {
    const refused = only('GET', req);
    if (refused) return refused;
    bundle ??= bundleWidget().catch((cause: unknown) => {
      bundle = undefined;
      throw cause;
    });
    return {
      statusCode: 200,
      headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Cross-Origin-Resource-Policy': 'cross-origin' },
      body: await bundle,
    };
  };

  const demo = async (req: IncomingMessage, query: URLSearchParams): Promise<APIGatewayProxyResult> => {
    const refused = only('GET', req);
    if (refused) return refused;
    const nonce = randomBytes(16).toString('base64');
    const { current } = (await options.secrets.get())['widget-api-key'];
    return {
      statusCode: 200,
      headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': demoCsp(nonce) },
      body: demoPage({ nonce, widgetKey: current.value, mode: query.get('mode') === 'token' ? 'token' : 'anonymous' }),
    };
  };

  const demoToken = async (req: IncomingMessage): Promise<APIGatewayProxyResult> => {
    const refused = only('POST', req);
    if (refused) return refused;
    const host = req.headers.host ?? '';
    const origin = req.headers.origin;
    if (!LOOPBACK_HOST.test(host) || (origin !== undefined && origin !== `http://${host}`)) {
      return error(403, 'ORIGIN_NOT_ALLOWED', 'This origin is not allowed to call this API.');
    }
    const { current } = (await options.secrets.get())['widget-signing-secret'];
    const minted = await mintWidgetToken(
      current.value,
      { userId: DEMO_USER_ID, expiresInSeconds: DEMO_TOKEN_SECONDS },
      { issuer: config.widgetTokenIssuer, audience: config.widgetTokenAudience },
      options.clock(),
    );
    return json(201, minted);
  };

  return async (req, res, { path, query }) => {
    if (path === '/widget.js') return send(res, await widgetJs(req));
    if (config.production) return false;
    if (path === '/demo') return send(res, await demo(req, query));
    if (path === '/demo/token') return send(res, await demoToken(req));
    return false;
  };
}
