import { checkResponse, checkStreamEvent } from '../../helpers/openapi.js';
import { SECURITY_HEADERS } from '../../helpers/http.js';

/** The headers every documented answer must carry. */
const HEADERS = { ...SECURITY_HEADERS, 'x-request-id': 'r-1', 'content-type': 'application/json; charset=utf-8' };
const json = (status: number, body: unknown, headers: Record<string, string> = HEADERS) => ({
  status,
  headers,
  json: body,
  text: JSON.stringify(body),
});
const error = (code: string) => ({ error: { code, message: 'm' } });
const WITHOUT_CACHE_CONTROL = Object.fromEntries(Object.entries(HEADERS).filter(([name]) => name !== 'cache-control'));

describe('checking answers against docs/openapi.json', () => {
  it.each([
    ['a documented success', 'GET', '/health', json(200, { status: 'ok' })],
    ['a documented error with its code', 'POST', '/v1/chat', json(401, error('TOKEN_EXPIRED'))],
    [
      'a documented error with its required header',
      'POST',
      '/v1/chat',
      json(429, error('BUDGET_EXCEEDED'), { ...HEADERS, 'retry-after': '30' }),
    ],
    [
      'a 204 without a body',
      'DELETE',
      '/v1/admin/keys/k0123456789abcdefghijklmno',
      { ...json(204, undefined), text: '' },
    ],
    ['a 404 for an unknown path', 'GET', '/nope', json(404, error('NOT_FOUND'))],
    ['a 405 for another method on a known path', 'PUT', '/v1/chat', json(405, error('METHOD_NOT_ALLOWED'))],
    ['a local-only route', 'GET', '/widget.js', { status: 200, headers: {}, text: 'x' }],
  ])('should accept %s', (_name, method, target, response) => {
    // Act
    const act = () => checkResponse(method, target, response);

    // Assess
    expect(act).not.toThrow();
  });

  it.each([
    [
      'a body that breaks the schema',
      'GET',
      '/health',
      json(200, { status: 'ok', version: '1' }),
      /must NOT have additional/,
    ],
    [
      'a status the operation does not document',
      'GET',
      '/health',
      json(401, error('UNAUTHORIZED')),
      /undocumented status/,
    ],
    ['a code its status does not list', 'POST', '/v1/chat', json(401, error('FORBIDDEN')), /allowed values/],
    [
      'another content type',
      'GET',
      '/health',
      json(200, { status: 'ok' }, { ...HEADERS, 'content-type': 'text/html' }),
      /content type/,
    ],
    [
      'a missing required header',
      'GET',
      '/health',
      json(200, { status: 'ok' }, WITHOUT_CACHE_CONTROL),
      /Cache-Control missing/,
    ],
    [
      'an error without its required header',
      'POST',
      '/v1/chat',
      json(429, error('RATE_LIMIT_EXCEEDED')),
      /Retry-After missing/,
    ],
    ['a success for a request no route takes', 'GET', '/nope', json(200, { status: 'ok' }), /no operation takes/],
  ])('should refuse %s', (_name, method, target, response, why) => {
    // Act
    const act = () => checkResponse(method, target, response);

    // Assess
    expect(act).toThrow(why);
  });

  it.each([
    ['a token event', { type: 'token', delta: 'Echo' }, false],
    ['an event of no documented type', { type: 'progress' }, true],
    ['a done event without its message', { type: 'done', sessionId: 's' }, true],
  ])('should check %s of a stream', (_name, event, refused) => {
    // Act
    const act = () => checkStreamEvent('/v1/chat/stream', event);

    // Assess
    if (refused) expect(act).toThrow(/does not describe this event/);
    else expect(act).not.toThrow();
  });
});
