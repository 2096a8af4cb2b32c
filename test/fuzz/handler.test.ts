/**
 * Fuzzing in process: hostile API Gateway events through every real handler and the whole Middy
 * chain, on a runtime of in-memory stores. Properties: never a 5xx, always the security headers,
 * always the error body of design §3 on errors, no stack trace, internal name or secret in a
 * body, no prototype pollution, and the chain still serves a good request afterwards.
 * `npm test` runs a fixed-seed sample; `npm run fuzz` runs 10,000 cases.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import type { LambdaHandler } from '../../lambdas/http/handler.js';
import { matchRoute } from '../../lambdas/http/routes.js';
import { HANDLERS } from '../../local/handlers.js';
import { apiEvent, chatRequest, fakeRuntime, invoke, type TestResponse } from '../helpers/fake-runtime.js';
import { contractProblems, fuzzSettings, requestArb, type FuzzRequest } from '../helpers/fuzz.js';

const GENEROUS = '1000000';

/** The event API Gateway would send for `request` (bytes that are not UTF-8 arrive base64-encoded). */
function toEvent(request: FuzzRequest): APIGatewayProxyEvent {
  const path = `/${request.segments.join('/')}`;
  const query = new Map<string, string[]>();
  for (const [name, value] of request.query) query.set(name, [...(query.get(name) ?? []), value]);
  const event = apiEvent({ method: request.method, path, headers: request.headers, query: Object.fromEntries(query) });
  const { body } = request;
  if (body === undefined) return event;
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const utf8 = typeof body === 'string' || Buffer.from(text, 'utf8').equals(body);
  return { ...event, body: utf8 ? text : body.toString('base64'), isBase64Encoded: !utf8 };
}

/** Status, lower-cased headers and body of a handler's response. */
function normalised(response: TestResponse) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) headers[name.toLowerCase()] = String(value);
  for (const [name, values] of Object.entries(response.multiValueHeaders ?? {})) {
    headers[name.toLowerCase()] = values.map(String).join(', ');
  }
  return { status: response.statusCode, headers, body: response.body };
}

describe('fuzzing the handlers in process', () => {
  const fake = fakeRuntime({
    env: {
      RATE_LIMIT_MAX_REQUESTS: GENEROUS,
      RATE_LIMIT_SESSION_MAX: GENEROUS,
      RATE_LIMIT_USER_MAX: GENEROUS,
      TOKEN_RATE_LIMIT_MAX: GENEROUS,
      ADMIN_RATE_LIMIT_MAX: GENEROUS,
      AUTH_FAILURE_LIMIT: GENEROUS,
    },
  });
  const handlers = Object.fromEntries(
    Object.entries(HANDLERS).map(([name, defined]) => [name, defined.build(fake.runtime)]),
  ) as Record<string, LambdaHandler>;
  const iat = Math.floor(fake.clock.now() / 1000);
  const token = jwt.sign({ sub: 'fuzz-user', iat, exp: iat + 3600 }, fake.keys.signing, { algorithm: 'HS256' });
  const credentials = { widgetKey: fake.keys.widget, adminKey: fake.keys.admin, serverKey: fake.keys.server, token };
  const secrets = Object.values(fake.keys);

  const send = (event: APIGatewayProxyEvent) => {
    const handler = handlers[matchRoute(event.httpMethod, event.path).handler];
    if (!handler) throw new Error(`no handler for ${event.path}`);
    return invoke(handler, event);
  };

  it('It should answer every hostile request within the contract', async () => {
    // Prepare
    const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const { numRuns, seed } = fuzzSettings();
    const statuses = new Map<number, number>();

    // Act + Assess: each case must come back within the contract
    await fc.assert(
      fc.asyncProperty(requestArb(credentials, 'event'), async (request) => {
        const response = normalised(await send(toEvent(request)));
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const problems = contractProblems(response, { method: request.method, secrets });
        if (problems.length > 0) throw new Error(problems.join('; '));
      }),
      { numRuns, seed },
    );

    // Assess: the run reached the handlers (successes) as well as the guards (errors), and nothing leaked into prototypes
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThan(5);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  }, 600_000);

  it('It should still serve a good chat request after the fuzzing', async () => {
    // Act
    const response = await send(apiEvent(chatRequest(fake.keys.widget, { sessionId: 'after-fuzz', message: 'hi' })));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({
      sessionId: 'after-fuzz',
      message: { role: 'assistant', content: 'Echo: hi' },
    });
  });
});
