import { jest } from '@jest/globals';
import { build as buildChat } from '../../../../lambdas/handlers/post-chat.js';
import {
  AppError,
  ConfigurationError,
  ForbiddenError,
  InvalidJsonError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  UpstreamError,
  ValidationError,
} from '../../../../lambdas/lib/errors.js';
import { defineHandler } from '../../../../lambdas/http/handler.js';
import { ModelError, type ModelProvider } from '../../../../lambdas/lib/llm/index.js';
import { CLIENT_GONE } from '../../../../lambdas/http/request-signal.js';
import { apiEvent, chatRequest, errorOf, fakeRuntime, invoke, newContext } from '../../../helpers/fake-runtime.js';

/** A handler that throws whatever `make` returns. */
const throwing = (make: () => unknown) =>
  defineHandler({ auth: 'none' }, async () => {
    throw make();
  });

async function run(make: () => unknown) {
  const fake = fakeRuntime();
  const logError = jest.spyOn(fake.logger, 'error');
  const response = await invoke(throwing(make).build(fake.runtime), {
    method: 'GET',
    path: '/probe',
    headers: { 'X-Request-Id': 'req-err' },
  });
  return { response, logError };
}

const INTERNAL = { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred.' };
const UNAVAILABLE = {
  code: 'SERVICE_UNAVAILABLE',
  message: 'The service is temporarily unavailable. Try again later.',
};

describe('error mapper middleware', () => {
  it.each<[string, () => AppError, number, Record<string, unknown>]>([
    [
      'InvalidJsonError',
      () => new InvalidJsonError(),
      400,
      { code: 'INVALID_JSON', message: 'The request body is not valid JSON.' },
    ],
    [
      'UnauthorizedError',
      () => new UnauthorizedError(),
      401,
      { code: 'UNAUTHORIZED', message: 'Missing or invalid credentials.' },
    ],
    [
      'ForbiddenError',
      () => new ForbiddenError(),
      403,
      { code: 'FORBIDDEN', message: 'This credential is not allowed to do that.' },
    ],
    [
      'NotFoundError',
      () => new NotFoundError('No such conversation.'),
      404,
      { code: 'NOT_FOUND', message: 'No such conversation.' },
    ],
    [
      'PayloadTooLargeError',
      () => new PayloadTooLargeError(10),
      413,
      { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than 10 bytes.' },
    ],
    [
      'UnsupportedMediaTypeError',
      () => new UnsupportedMediaTypeError(),
      415,
      { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The request body must be application/json.' },
    ],
    [
      'UpstreamError',
      () => new UpstreamError({ cause: new Error('openai: 500 at 10.0.0.1') }),
      502,
      { code: 'UPSTREAM_ERROR', message: 'The model provider failed to answer.' },
    ],
    [
      'ServiceUnavailableError',
      () => new ServiceUnavailableError({ cause: new Error('ECONNREFUSED 10.0.0.2:8000') }),
      503,
      UNAVAILABLE,
    ],
  ])('It should map %s to its status and the contract body', async (_label, make, status, error) => {
    // Act
    const { response } = await run(make);

    // Assess
    expect(response.statusCode).toBe(status);
    expect(response.json).toEqual({ error });
    expect(response.headers['Content-Type']).toBe('application/json; charset=utf-8');
    expect(response.body).not.toMatch(/10\.0\.0\.|openai|ECONNREFUSED|stack/);
  });

  const abandoned = () => new UpstreamError({ cause: new ModelError('aborted', 'The answer is no longer wanted.') });
  it.each<[string, boolean, () => AppError, number, number]>([
    ['its model call aborted, client has hung up', true, abandoned, 0, 1],
    ['its model call aborted, client is still there (the deadline)', false, abandoned, 1, 0],
    [
      'the model failed, client has hung up',
      true,
      () => new UpstreamError({ cause: new ModelError('network', 'x') }),
      1,
      0,
    ],
    [
      'a store failed, client has hung up',
      true,
      () => new ServiceUnavailableError({ cause: new Error('throttled') }),
      1,
      0,
    ],
  ])(
    'should log a 5xx as a dependency failure unless the hang-up caused it (%s)',
    async (_, gone, make, errors, infos) => {
      // Prepare
      const fake = fakeRuntime();
      const logError = jest.spyOn(fake.logger, 'error');
      const logInfo = jest.spyOn(fake.logger, 'info');
      const clientGone = new AbortController();
      if (gone) clientGone.abort();
      const handler = throwing(make).build(fake.runtime);

      // Act
      const response = await handler(
        apiEvent({ method: 'GET', path: '/probe' }),
        Object.assign(newContext(), { [CLIENT_GONE]: clientGone.signal }),
      );

      // Assess
      expect(response.statusCode).toBe(make().status);
      expect(logError.mock.calls.filter(([message]) => message === 'dependency failure')).toHaveLength(errors);
      expect(logInfo.mock.calls.filter(([message]) => message === 'client disconnected')).toHaveLength(infos);
    },
  );

  it('It should include details for a validation error', async () => {
    // Act
    const { response } = await run(
      () => new ValidationError('The request is not valid.', [{ path: 'body.sessionId', message: 'is required' }]),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'The request is not valid.',
        details: [{ path: 'body.sessionId', message: 'is required' }],
      },
    });
  });

  it('It should add retry_after when the error carries Retry-After, and keep the header', async () => {
    // Act
    const { response } = await run(
      () => new AppError('RATE_LIMIT_EXCEEDED', 429, 'Too many requests.', { headers: { 'Retry-After': '7' } }),
    );

    // Assess
    expect(response.statusCode).toBe(429);
    expect(response.headers['Retry-After']).toBe('7');
    expect(response.json).toEqual({
      error: { code: 'RATE_LIMIT_EXCEEDED', message: 'Too many requests.', retry_after: 7 },
    });
  });

  it('It should keep the headers of an error, such as Allow on a 405', async () => {
    // Act
    const { response } = await run(() => new MethodNotAllowedError(['POST', 'OPTIONS']));

    // Assess
    expect(response.statusCode).toBe(405);
    expect(response.headers.Allow).toBe('POST, OPTIONS');
    expect(errorOf(response).code).toBe('METHOD_NOT_ALLOWED');
  });

  it.each([
    ['500', 500, INTERNAL],
    ['502', 502, { code: 'UPSTREAM_ERROR', message: 'The model provider failed to answer.' }],
    ['503', 503, { code: 'UPSTREAM_ERROR', message: UNAVAILABLE.message }],
    ['504 (no message of its own)', 504, { code: 'UPSTREAM_ERROR', message: INTERNAL.message }],
  ])('It should hide the message of an application error with status %s', async (_label, status, error) => {
    // Act
    const { response } = await run(
      () =>
        new AppError(status === 500 ? 'INTERNAL_ERROR' : 'UPSTREAM_ERROR', status, 'db password=hunter2 at 10.0.0.3'),
    );

    // Assess
    expect(response.statusCode).toBe(status);
    expect(response.json).toEqual({ error });
    expect(response.body).not.toContain('hunter2');
  });

  it.each<[string, () => unknown]>([
    ['an Error', () => new Error('SELECT * FROM users WHERE password=hunter2')],
    ['a TypeError', () => new TypeError("Cannot read properties of undefined (reading 'hunter2')")],
    ['an error with a custom name', () => Object.assign(new Error('hunter2'), { name: 'ResourceNotFoundException' })],
    ['a thrown string', () => 'hunter2'],
    ['a thrown object', () => ({ message: 'hunter2', statusCode: 418 })],
    ['an error with a status-like property', () => Object.assign(new Error('hunter2'), { status: 400, expose: true })],
  ])('It should answer 500 INTERNAL_ERROR with no detail for %s', async (_label, make) => {
    // Act
    const { response, logError } = await run(make);

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.json).toEqual({ error: INTERNAL });
    expect(response.body).not.toMatch(/hunter2|Error|at |\.ts|stack/);
    expect(logError).toHaveBeenCalledWith('unexpected error', expect.objectContaining({ requestId: 'req-err' }));
  });

  it.each<[string, () => unknown]>([
    ['a ConfigurationError', () => new ConfigurationError(['ADMIN_API_KEY is shorter than 32 characters'])],
    [
      "Middy's early TimeoutError",
      () => Object.assign(new Error('[AbortError]: The operation was aborted.'), { name: 'TimeoutError' }),
    ],
  ])('It should fail closed with 503 for %s, without detail', async (_label, make) => {
    // Act
    const { response, logError } = await run(make);

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.json).toEqual({ error: UNAVAILABLE });
    expect(response.body).not.toMatch(/ADMIN_API_KEY|Abort/);
    expect(logError).toHaveBeenCalledWith('failing closed', expect.objectContaining({ requestId: 'req-err' }));
  });

  it('It should answer 502 UPSTREAM_ERROR when the model fails, keeping the provider error out of the body', async () => {
    // Prepare
    const model: ModelProvider = {
      complete: async () => {
        throw new Error('401 from https://api.openai.com with key sk-live-hunter2');
      },
      stream: () => {
        throw new Error('not streamed here');
      },
    };
    const fake = fakeRuntime({ model });

    // Act
    const response = await invoke(buildChat(fake.runtime), chatRequest(fake.keys.widget));

    // Assess
    expect(response.statusCode).toBe(502);
    expect(response.json).toEqual({
      error: { code: 'UPSTREAM_ERROR', message: 'The model provider failed to answer.' },
    });
    expect(response.body).not.toContain('hunter2');
  });
});
