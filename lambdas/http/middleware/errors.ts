/**
 * Step 9: the one error mapper. Expected errors (`AppError`) become the contract's error body
 * `{"error":{"code","message",…}}` with their status and headers; everything else is logged and
 * answered as 500 `INTERNAL_ERROR` with no detail. Configuration problems and timeouts fail
 * closed as 503. No stack trace, internal name or credential ever reaches the client.
 */
import type { MiddlewareObj } from '@middy/core';
import { AppError, ConfigurationError, ServiceUnavailableError, ValidationError } from '../../lib/errors.js';
import { BudgetExceededError } from '../../lib/budget.js';
import { json } from '../responses.js';
import type { Logger } from '../../lib/logger.js';
import type { AppRequest } from '../request.js';

export interface ErrorMapperOptions {
  readonly logger: Logger;
}

/** What the client reads for errors that are not exposed (every 5xx). */
const SERVER_MESSAGES: Readonly<Record<number, string>> = {
  500: 'An unexpected error occurred.',
  502: 'The model provider failed to answer.',
  503: 'The service is temporarily unavailable. Try again later.',
};

/** Turns `error` into the response body and headers of the contract. */
export function errorResponse(error: AppError) {
  const body: Record<string, unknown> = {
    code: error.code,
    message: error.expose ? error.message : (SERVER_MESSAGES[error.status] ?? SERVER_MESSAGES[500]),
  };
  if (error instanceof ValidationError) body.details = error.details;
  if (error instanceof BudgetExceededError) body.details = error.details;
  const retryAfter = error.headers['Retry-After'];
  if (retryAfter !== undefined) body.retry_after = Number(retryAfter);
  return json(error.status, { error: body }, { ...error.headers });
}

/** Creates the error-mapping middleware. */
export function errorMapper(options: ErrorMapperOptions): MiddlewareObj {
  const { logger } = options;
  return {
    onError: (request: AppRequest) => {
      if (request.response !== undefined) return;
      const error = request.error;
      const state = request.context.app;
      const requestId = state?.requestId;
      let mapped: AppError;
      if (error instanceof AppError) {
        mapped = error;
        if (mapped.status >= 500)
          logger.error('dependency failure', { requestId, code: mapped.code, error: mapped.cause ?? mapped });
      } else if (error instanceof ConfigurationError || error?.name === 'TimeoutError') {
        logger.error('failing closed', { requestId, error });
        mapped = new ServiceUnavailableError({ cause: error });
      } else {
        logger.error('unexpected error', { requestId, error });
        request.response = json(500, { error: { code: 'INTERNAL_ERROR', message: SERVER_MESSAGES[500] } });
        if (state) state.errorCode = 'INTERNAL_ERROR';
        return;
      }
      if (state) state.errorCode = mapped.code;
      request.response = errorResponse(mapped);
    },
  } as MiddlewareObj;
}
