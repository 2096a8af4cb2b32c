/**
 * HTTP → API Gateway REST proxy event, and result → HTTP, as API Gateway does it: headers as
 * last-value and multi-value maps, the query string likewise, the client address from the
 * socket (never from `X-Forwarded-For`), and the body as a UTF-8 string.
 */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { HandlerResult } from '../lambdas/http/handler.js';
import type { RouteMatch } from '../lambdas/http/routes.js';
import { CLIENT_GONE, type DisconnectAwareContext } from '../lambdas/http/request-signal.js';
import { isStreamingResult } from '../lambdas/http/streaming.js';

/** API Gateway's own limit on a request body. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/** API Gateway's integration timeout, which a local request gets as its Lambda deadline. */
const INTEGRATION_TIMEOUT_MS = 29_000;

/**
 * Reads the body, keeping at most `limit + 1` bytes: the rest is drained and dropped (memory stays
 * bounded, the connection stays usable), and the chain answers 413 for what it was given. The
 * server's request timeout bounds how long a client may keep sending.
 */
export async function readBody(req: IncomingMessage, limit: number = MAX_REQUEST_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (kept > limit) continue;
    const part = chunk.subarray(0, limit + 1 - kept);
    chunks.push(part);
    kept += part.length;
  }
  return Buffer.concat(chunks);
}

/** Splits a request target into path and query without resolving it against any host. */
export function splitTarget(target: string): { path: string; query: URLSearchParams } {
  const at = target.indexOf('?');
  const path = at < 0 ? target : target.slice(0, at);
  return {
    path: path.startsWith('/') ? path : `/${path}`,
    query: new URLSearchParams(at < 0 ? '' : target.slice(at + 1)),
  };
}

/**
 * Name/value pairs as last-value and multi-value maps. The names are the client's (`__proto__` is
 * a valid header name and query key), so they are collected in a `Map` and become own properties.
 */
function pairs(raw: readonly string[]): { single: Record<string, string>; multi: Record<string, string[]> } {
  const multi = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const values = multi.get(name);
    if (values) values.push(value);
    else multi.set(name, [value]);
  }
  const entries = [...multi];
  return {
    single: Object.fromEntries(entries.map(([name, values]) => [name, values.at(-1) as string])),
    multi: Object.fromEntries(entries),
  };
}

/** Builds the proxy event API Gateway would send for this request. */
export function toEvent(
  req: IncomingMessage,
  sourceIp: string,
  target: { path: string; query: URLSearchParams },
  body: Buffer,
  match: RouteMatch,
): APIGatewayProxyEvent {
  const headers = pairs(req.rawHeaders);
  const utf8 = isUtf8(body);
  const query: string[] = [];
  for (const [name, value] of target.query) query.push(name, value);
  const params = pairs(query);
  const hasQuery = query.length > 0;
  const now = Date.now();
  return {
    resource: match.resource,
    path: target.path,
    httpMethod: req.method ?? 'GET',
    headers: headers.single,
    multiValueHeaders: headers.multi,
    queryStringParameters: hasQuery ? params.single : null,
    multiValueQueryStringParameters: hasQuery ? params.multi : null,
    pathParameters: match.pathParameters ? { ...match.pathParameters } : null,
    stageVariables: null,
    // Text bodies arrive as strings; bytes that are not UTF-8 arrive base64-encoded, so the chain
    // sees them as they are (and refuses them) instead of as replacement characters.
    body: body.length === 0 ? null : utf8 ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !utf8,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'GET',
      path: target.path,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: match.resource,
      identity: {
        sourceIp,
        userAgent: req.headers['user-agent'] ?? null,
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        user: null,
        userArn: null,
      },
    },
  };
}

/**
 * A Lambda context whose deadline is API Gateway's integration timeout, carrying `clientGone`
 * (fires when the client disconnects) so handlers stop work nobody will read.
 */
export function toContext(functionName: string, clientGone?: AbortSignal): DisconnectAwareContext {
  const deadline = Date.now() + INTEGRATION_TIMEOUT_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...(clientGone === undefined ? {} : { [CLIENT_GONE]: clientGone }),
  };
}

/**
 * Writes a proxy result to the HTTP response. A streamed body is sent as it is produced, as
 * API Gateway's `STREAM` mode does: headers first, then each chunk; a client that disconnects
 * ends the pipeline, which destroys the body and so stops whatever produces it.
 */
export async function writeResult(res: ServerResponse, result: HandlerResult): Promise<void> {
  res.statusCode = result.statusCode;
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, String(value));
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) res.setHeader(name, values.map(String));
  if (isStreamingResult(result)) {
    res.flushHeaders();
    await pipeline(result.body, res).catch(() => undefined);
    return;
  }
  const body = result.body ?? '';
  res.end(result.isBase64Encoded ? Buffer.from(body, 'base64') : body);
}
