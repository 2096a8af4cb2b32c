/** The per-request state that middlewares share, kept on the Middy request's context. */
import type { Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { LimitResult } from '../lib/rate-limiter.js';
import type { VerifiedToken } from '../lib/tokens.js';
import type { TurnSpend } from '../lib/turn-spend.js';
import type { ConversationSummary } from '../lib/conversation.js';

/** What the chain learns about one request. */
export interface RequestState {
  readonly requestId: string;
  /** The client address from `requestContext.identity.sourceIp`; forwarding headers are never read. */
  readonly ip: string;
  readonly method: string;
  /** The route template (`/v1/admin/conversations/{sessionId}`), or `/{proxy+}` for unmatched requests; never a raw path. */
  readonly route: string;
  readonly startedAt: number;
  /** The allowed Origin to echo in `Access-Control-Allow-Origin`, once CORS has approved it. */
  corsOrigin?: string;
  /** Who is calling, once authenticated: `admin`, `server`, `anonymous`, `user:<id>`. */
  actor?: string;
  /** The verified widget token, when one was presented and accepted. */
  token?: VerifiedToken;
  /** Every rate-limit tier taken for this request, for the response headers. */
  rateLimits?: LimitResult[];
  /** The parsed JSON body, once the body middleware has read it. */
  body?: unknown;
  /** Validated inputs, once the validation middleware has run. */
  input?: { body: unknown; query: unknown; params: unknown };
  /** Chat routes: the turn's pause check and budget reservation, begun before rate limiting. */
  spend?: TurnSpend;
  /** Chat routes: the session's summary, read with the security checks (see `ChatTurn.seen`). */
  seen?: Promise<ConversationSummary | undefined>;
  /**
   * Security checks begun but not yet awaited (revocation, rate limits), in chain order: their
   * DynamoDB calls go out together in one wave; `awaitChecks` takes their verdicts in this order.
   */
  checks?: Array<Promise<DeferredCheck>>;
  /** The error code of the response, for the access log. */
  errorCode?: string;
}

/** The Lambda context with our request state. */
export interface AppContext extends Context {
  app: RequestState;
}

export type AppRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, AppContext>;

/** What a security check learned, once its calls are answered. */
export interface DeferredCheck {
  /** Refuses the request (throws, after auditing) or lets it pass. */
  readonly verdict: () => Promise<void>;
  /**
   * Undoes what the check took (counters) when an earlier check refused the request, so a
   * refused request (a revoked token's) costs nothing in this check. @default nothing to undo
   */
  readonly undo?: () => Promise<void>;
}

/**
 * Begins a security check; `awaitChecks` takes the verdicts later, in the order the checks were
 * begun, and only the first refusal counts (later checks are undone). A rejected `check` (its
 * store is down) refuses with that error. The check's calls go out at once.
 */
export function deferCheck(state: RequestState, check: Promise<DeferredCheck>): void {
  // Awaited by `awaitChecks`, or never when an earlier step fails: never an unhandled rejection.
  check.catch(() => undefined);
  (state.checks ??= []).push(check);
}

/** The route path a request is about: its template, or for unmatched requests the path itself. */
export function routePath(event: APIGatewayProxyEvent): string {
  if (event.resource === '/{proxy+}') return `/${event.pathParameters?.proxy ?? ''}`;
  return event.resource || event.path;
}

/** Adds `value` to a comma-separated response header (for `Vary`). */
export function appendHeader(headers: Record<string, string | number | boolean>, name: string, value: string): void {
  const existing = headers[name];
  headers[name] = existing === undefined || existing === '' ? value : `${String(existing)}, ${value}`;
}
