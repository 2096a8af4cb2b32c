/**
 * Step 9: the one error mapper. Expected errors (`AppError`) become the contract's error body
 * `{"error":{"code","message",…}}` with their status and headers; everything else is logged and
 * answered as 500 `INTERNAL_ERROR` with no detail. Configuration problems and timeouts fail
 * closed as 503. No stack trace, internal name or credential ever reaches the client.
 */
import type { MiddlewareObj } from '@middy/core';
import {
  AppError,
  BudgetExceededError,
  ConfigurationError,
  ServiceUnavailableError,
  ValidationError,
} from '../../lib/errors.js';
import { errorBody, INTERNAL_ERROR_MESSAGE, serverErrorMessage } from '../contract.js';
import { json } from '../responses.js';
import type { Logger } from '../../lib/logger.js';
import type { AppRequest } from '../request.js';
import { CLIENT_GONE, type DisconnectAwareContext } from '../request-signal.js';
import { ModelError } from '../../lib/llm/index.js';

export interface ErrorMapperOptions {
  readonly logger: Logger;
}

/** Turns `error` into the response body and headers of the contract. */
export function errorResponse(error: AppError) {
  const message = error.expose ? error.message : serverErrorMessage(error.status);
  const retryAfter = error.headers['Retry-After'];
  const body = errorBody(error.code, message, {
    details: error instanceof ValidationError || error instanceof BudgetExceededError ? error.details : undefined,
    retry_after: retryAfter === undefined ? undefined : Number(retryAfter),
  });
  return json(error.status, body, { ...error.headers });
}

/**
 * Whether `error` is the model call the client's hang-up aborted: its host says the client is gone
 * and the cause is a `ModelError` of reason `aborted`. Any other failure met after a hang-up (a
 * store failing) is still a dependency failure, or hanging up would hide it.
 */
function abandonedByClient(error: AppError, context: DisconnectAwareContext): boolean {
  return (
    context[CLIENT_GONE]?.aborted === true && error.cause instanceof ModelError && error.cause.reason === 'aborted'
  );
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
        // A client that hangs up aborts its model call (a 502 nobody reads): not a dependency's fault,
        // and anyone can cause it, so it must not raise the errors operators alarm on.
        if (mapped.status >= 500) {
          if (abandonedByClient(mapped, request.context))
            logger.info('client disconnected', { requestId, code: mapped.code });
          else logger.error('dependency failure', { requestId, code: mapped.code, error: mapped.cause ?? mapped });
        }
      } else if (error instanceof ConfigurationError || error?.name === 'TimeoutError') {
        logger.error('failing closed', { requestId, error });
        mapped = new ServiceUnavailableError({ cause: error });
      } else {
        logger.error('unexpected error', { requestId, error });
        request.response = json(500, errorBody('INTERNAL_ERROR', INTERNAL_ERROR_MESSAGE));
        if (state) state.errorCode = 'INTERNAL_ERROR';
        return;
      }
      if (state) state.errorCode = mapped.code;
      request.response = errorResponse(mapped);
    },
  } as MiddlewareObj;
}
