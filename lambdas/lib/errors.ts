/**
 * Expected errors: each carries a stable `code` and an HTTP `status`, and is safe to show
 * to a client when `expose` is true. Anything else that reaches the error mapper is treated
 * as unexpected, logged, and answered as a 500 with no detail.
 */

/**
 * Every error code the API answers with (docs/api.md, "Status codes"); `BAD_REQUEST` is only
 * written by API Gateway itself, for requests it refuses before any Lambda runs.
 */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'INVALID_JSON',
  'VALIDATION_FAILED',
  'CHALLENGE_FAILED',
  'UNAUTHORIZED',
  'TOKEN_EXPIRED',
  'FORBIDDEN',
  'ORIGIN_NOT_ALLOWED',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'IDEMPOTENCY_IN_PROGRESS',
  'KEY_LIMIT_REACHED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'IDEMPOTENCY_KEY_REUSED',
  'RATE_LIMIT_EXCEEDED',
  'INTERNAL_ERROR',
  'UPSTREAM_ERROR',
  'SERVICE_UNAVAILABLE',
  'BUDGET_EXCEEDED',
  'CHAT_PAUSED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** One problem found by request validation, as returned in `error.details`. */
export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

/** Options shared by every application error. */
export interface AppErrorOptions {
  readonly cause?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Base class of every expected error; callers branch on `code`, never on message text. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Whether `message` may be shown to the client (never for 5xx). */
  readonly expose: boolean;
  /** Extra response headers (for example `Allow` or `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, status: number, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.expose = status < 500;
    this.headers = options.headers ?? {};
  }
}

/** 400: the body or query did not match the schema. */
export class ValidationError extends AppError {
  readonly details: readonly ErrorDetail[];
  constructor(message: string, details: readonly ErrorDetail[] = [], options?: AppErrorOptions) {
    super('VALIDATION_FAILED', 400, message, options);
    this.details = details;
  }
}

/** 400: the body is not valid JSON. */
export class InvalidJsonError extends AppError {
  constructor(options?: AppErrorOptions) {
    super('INVALID_JSON', 400, 'The request body is not valid JSON.', options);
  }
}

/** 401: missing or wrong credentials. */
export class UnauthorizedError extends AppError {
  constructor(message = 'Missing or invalid credentials.', options?: AppErrorOptions) {
    super('UNAUTHORIZED', 401, message, options);
  }
}

/** 403: authenticated, but not allowed here. */
export class ForbiddenError extends AppError {
  constructor(message = 'This credential is not allowed to do that.', options?: AppErrorOptions) {
    super('FORBIDDEN', 403, message, options);
  }
}

/** 403: the request's Origin is not on the allow-list. */
export class OriginNotAllowedError extends AppError {
  constructor(options?: AppErrorOptions) {
    super('ORIGIN_NOT_ALLOWED', 403, 'This origin is not allowed to call this API.', options);
  }
}

/** 404: no such route or resource (also for resources that belong to someone else). */
export class NotFoundError extends AppError {
  constructor(message = 'Not found.', options?: AppErrorOptions) {
    super('NOT_FOUND', 404, message, options);
  }
}

/** 405: the path exists, the method does not; `Allow` lists the methods that do. */
export class MethodNotAllowedError extends AppError {
  constructor(allow: readonly string[], options?: AppErrorOptions) {
    super('METHOD_NOT_ALLOWED', 405, 'This method is not allowed on this path.', {
      ...options,
      headers: { ...options?.headers, Allow: allow.join(', ') },
    });
  }
}

/** 409: a request with the same `Idempotency-Key` is still being answered. */
export class IdempotencyInProgressError extends AppError {
  constructor(options?: AppErrorOptions) {
    super('IDEMPOTENCY_IN_PROGRESS', 409, 'A request with this Idempotency-Key is still in progress; retry shortly.', {
      ...options,
      headers: { 'Retry-After': '1' },
    });
  }
}

/** 422: an `Idempotency-Key` used again with a different request. */
export class IdempotencyKeyReusedError extends AppError {
  constructor(options?: AppErrorOptions) {
    super(
      'IDEMPOTENCY_KEY_REUSED',
      422,
      'This Idempotency-Key was already used with a different request body.',
      options,
    );
  }
}

/** 409: creating one more managed API key would pass the limit of active keys. */
export class KeyLimitError extends AppError {
  constructor(limit: number, options?: AppErrorOptions) {
    super(
      'KEY_LIMIT_REACHED',
      409,
      `At most ${limit} API keys may be active; revoke unused or expired keys first.`,
      options,
    );
  }
}

/** 429 `RATE_LIMIT_EXCEEDED`, with `Retry-After` (the mapper copies it into `retry_after`). */
export class RateLimitError extends AppError {
  constructor(retryAfterSeconds: number) {
    super('RATE_LIMIT_EXCEEDED', 429, 'Too many requests. Retry later.', {
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }
}

/** The challenge of a presented but unacceptable widget token (RFC 6750 §3.1). */
const INVALID_TOKEN = { 'WWW-Authenticate': 'Bearer realm="chat-widget", error="invalid_token"' };

/** 401 `UNAUTHORIZED` for a present but unacceptable widget token; never a fall-back to anonymous. */
export class InvalidTokenError extends AppError {
  /** Why, for logs and audit only (never shown to the client). */
  readonly reason: string;
  constructor(reason: string, options?: AppErrorOptions) {
    super('UNAUTHORIZED', 401, 'The widget token is invalid.', { ...options, headers: INVALID_TOKEN });
    this.reason = reason;
  }
}

/** 401 `TOKEN_EXPIRED`: a genuine widget token past its `exp` (plus tolerance). */
export class TokenExpiredError extends AppError {
  readonly reason = 'expired';
  constructor(options?: AppErrorOptions) {
    super('TOKEN_EXPIRED', 401, 'The widget token has expired.', { ...options, headers: INVALID_TOKEN });
  }
}

/** 400: a visitor-token proof of work is missing, wrong, expired or already used (design §14). */
export class ChallengeFailedError extends AppError {
  /** Why, for logs and audit only (never shown to the client). */
  readonly reason: string;
  constructor(reason: string, options?: AppErrorOptions) {
    super('CHALLENGE_FAILED', 400, 'The challenge solution is missing, wrong, expired or already used.', options);
    this.reason = reason;
  }
}

/** 413: the body is larger than `MAX_BODY_BYTES`. */
export class PayloadTooLargeError extends AppError {
  constructor(limit: number, options?: AppErrorOptions) {
    super('PAYLOAD_TOO_LARGE', 413, `The request body is larger than ${limit} bytes.`, options);
  }
}

/** 415: the body is not `application/json`. */
export class UnsupportedMediaTypeError extends AppError {
  constructor(options?: AppErrorOptions) {
    super('UNSUPPORTED_MEDIA_TYPE', 415, 'The request body must be application/json.', options);
  }
}

/** 502: the model provider failed. */
export class UpstreamError extends AppError {
  constructor(options?: AppErrorOptions) {
    super('UPSTREAM_ERROR', 502, 'The model provider failed to answer.', options);
  }
}

/** 503: a security dependency (secrets, stores) is unavailable, so the request fails closed. */
export class ServiceUnavailableError extends AppError {
  constructor(options?: AppErrorOptions) {
    super('SERVICE_UNAVAILABLE', 503, 'The service is temporarily unavailable. Try again later.', options);
  }
}

/** Raised at cold start when configuration or secrets are unusable; names the problem, never a value. */
export class ConfigurationError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigurationError';
    this.problems = problems;
  }
}

/** The token budgets of design §12, in the order a refusal names the first that does not fit. */
export const BUDGET_SCOPES = ['session', 'user', 'ip', 'deployment'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];

/** 429 `BUDGET_EXCEEDED`: the scope in `details`, `Retry-After` (and `retry_after`) to the next UTC midnight. */
export class BudgetExceededError extends AppError {
  readonly details: readonly ErrorDetail[];
  readonly scope: BudgetScope;
  constructor(scope: BudgetScope, retryAfterSeconds: number) {
    super('BUDGET_EXCEEDED', 429, 'The daily usage limit is reached. Try again tomorrow.', {
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
    this.scope = scope;
    this.details = [{ path: 'budget', message: scope }];
  }
}

/** 503 `CHAT_PAUSED`: shown as is (it is the operator's decision, not a failure to hide). */
export class ChatPausedError extends AppError {
  override readonly expose: boolean = true;
  constructor() {
    super('CHAT_PAUSED', 503, 'Chat is paused by the operator. Try again later.');
  }
}
