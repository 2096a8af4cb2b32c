/**
 * The route table is the one source of route facts: its keys name its routes, every route of one
 * Lambda entry shares the chain's facts, each entry is built from its own route, and the success
 * body of every route, answered by the real handler, matches the route's response schema.
 */
import type * as z from 'zod';
import { ROUTE_TABLE, ROUTES, type Route, type RouteKey } from '../../../lambdas/http/routes.js';
import { HANDLERS } from '../../../local/handlers.js';
import { mintWidgetToken } from '../../../lambdas/lib/tokens.js';
import { T0, fakeRuntime, invoke, type EventInput, type FakeRuntime } from '../../helpers/fake-runtime.js';

const chainFacts = (facts: Partial<Route>) => ({
  auth: facts.auth,
  token: facts.token,
  body: facts.body,
  query: facts.query,
  params: facts.params,
  corsList: facts.corsList,
  stream: facts.stream,
  metered: facts.metered,
});

describe('route table', () => {
  it.each(Object.entries(ROUTE_TABLE))('It should key %s by its method and path', (key, route) => {
    // Assess
    expect(`${route.method} ${route.path}`).toBe(key);
  });

  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    'It should build the entry of %s from the facts of its route',
    (_key, route) => {
      // Act
      const built = HANDLERS[route.handler].facts;

      // Assess
      expect(chainFacts(built)).toEqual(chainFacts(route));
    },
  );

  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    'It should give %s a role exactly when it takes a bearer key',
    (_key, route) => {
      // Assess
      expect(route.role !== undefined).toBe(route.auth === 'admin' || route.auth === 'server');
    },
  );

  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    'It should give %s a response schema exactly when its success has a body, and path parameters as its path names them',
    (_key, route) => {
      // Prepare
      const named = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      const declared = Object.keys((route.params as z.ZodObject | undefined)?.shape ?? {}).sort();

      // Assess
      expect(route.response !== undefined).toBe(route.status !== 204);
      expect(declared).toEqual(named);
    },
  );
});

/** The SSE events of a stream body, each `data:` line parsed. */
const events = (body: string): unknown[] =>
  body
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => JSON.parse(block.replace(/^data: /, '')) as unknown);

describe('response schemas', () => {
  /** Every route once, in an order where each finds what it needs (a session, a key, a token). */
  const calls: [RouteKey, (fake: FakeRuntime, token: string, keyId: () => string) => EventInput][] = [
    ['GET /health', () => ({ method: 'GET', path: '/health' })],
    [
      'POST /v1/tokens',
      (f) => ({
        method: 'POST',
        path: '/v1/tokens',
        headers: { Authorization: `Bearer ${f.keys.server}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ userId: 'user-1' }),
      }),
    ],
    ...(['/v1/chat', '/chat', '/v1/chat/stream'] as const).map(
      (path): [RouteKey, (fake: FakeRuntime, token: string) => EventInput] => [
        `POST ${path}`,
        (f, token) => ({
          method: 'POST',
          path,
          headers: {
            'X-Widget-Api-Key': f.keys.widget,
            Authorization: `Bearer ${token}`,
            'Content-Type': 'application/json',
          },
          body: JSON.stringify({ sessionId: 'session-1', message: 'hello' }),
        }),
      ],
    ),
    [
      'GET /v1/sessions/{sessionId}/messages',
      (f, token) => ({
        method: 'GET',
        path: '/v1/sessions/session-1/messages',
        headers: { 'X-Widget-Api-Key': f.keys.widget, Authorization: `Bearer ${token}` },
      }),
    ],
    ...(
      [
        ['GET /v1/admin/conversations', '/v1/admin/conversations'],
        ['GET /v1/admin/conversations/{sessionId}', '/v1/admin/conversations/session-1'],
        ['GET /v1/admin/audit', '/v1/admin/audit'],
        ['GET /v1/admin/usage', '/v1/admin/usage'],
      ] as const
    ).map(([key, path]): [RouteKey, (fake: FakeRuntime) => EventInput] => [
      key,
      (f) => ({ method: 'GET', path, headers: { Authorization: `Bearer ${f.keys.admin}` } }),
    ]),
    [
      'POST /v1/admin/keys',
      (f) => ({
        method: 'POST',
        path: '/v1/admin/keys',
        headers: { Authorization: `Bearer ${f.keys.admin}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'ci', role: 'admin:read' }),
      }),
    ],
    [
      'GET /v1/admin/keys',
      (f) => ({ method: 'GET', path: '/v1/admin/keys', headers: { Authorization: `Bearer ${f.keys.admin}` } }),
    ],
    [
      'DELETE /v1/admin/keys/{keyId}',
      (f, _token, keyId) => ({
        method: 'DELETE',
        path: `/v1/admin/keys/${keyId()}`,
        headers: { Authorization: `Bearer ${f.keys.admin}` },
      }),
    ],
    [
      'POST /v1/admin/tokens/revoke',
      (f) => ({
        method: 'POST',
        path: '/v1/admin/tokens/revoke',
        headers: { Authorization: `Bearer ${f.keys.admin}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ jti: 'some-other-token' }),
      }),
    ],
    [
      'DELETE /v1/admin/conversations/{sessionId}',
      (f) => ({
        method: 'DELETE',
        path: '/v1/admin/conversations/session-1',
        headers: { Authorization: `Bearer ${f.keys.admin}` },
      }),
    ],
    [
      'GET /v1/visitor-tokens/challenge',
      (f) => ({ method: 'GET', path: '/v1/visitor-tokens/challenge', headers: { 'X-Widget-Api-Key': f.keys.widget } }),
    ],
    [
      'POST /v1/visitor-tokens',
      (f) => ({
        method: 'POST',
        path: '/v1/visitor-tokens',
        headers: {
          'X-Widget-Api-Key': f.keys.widget,
          Origin: 'https://shop.example.com',
          'Content-Type': 'application/json',
        },
        body: '{}',
      }),
    ],
    [
      'POST /v1/tokens/revoke',
      (f, token) => ({
        method: 'POST',
        path: '/v1/tokens/revoke',
        headers: { 'X-Widget-Api-Key': f.keys.widget, Authorization: `Bearer ${token}` },
      }),
    ],
    [
      'POST /v1/admin/chat/pause',
      (f) => ({
        method: 'POST',
        path: '/v1/admin/chat/pause',
        headers: { Authorization: `Bearer ${f.keys.admin}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ reason: 'route table check' }),
      }),
    ],
    [
      'DELETE /v1/admin/chat/pause',
      (f) => ({ method: 'DELETE', path: '/v1/admin/chat/pause', headers: { Authorization: `Bearer ${f.keys.admin}` } }),
    ],
  ];

  it('It should call every route of the table', () => {
    // Assess
    expect(calls.map(([key]) => key).sort()).toEqual(Object.keys(ROUTE_TABLE).sort());
  });

  it('It should answer every route with its success status and a body its response schema accepts', async () => {
    // Prepare
    // Minting with no proof of work: the proof itself is tested in test/unit/handlers/visitor-tokens.test.ts.
    const fake = fakeRuntime({ env: { VISITOR_CHALLENGE: 'none' } });
    const token = (await mintWidgetToken(fake.keys.signing, { userId: 'user-1', expiresInSeconds: 600 }, {}, T0)).token;
    let createdKeyId = '';
    const outcomes: [RouteKey, number, number, boolean][] = [];

    // Act
    for (const [key, request] of calls) {
      const route: Route = ROUTE_TABLE[key];
      const response = await invoke(
        HANDLERS[route.handler].build(fake.runtime),
        request(fake, token, () => createdKeyId),
      );
      if (key === 'POST /v1/admin/keys') createdKeyId = (response.json as { id: string }).id;
      const bodies = route.stream ? events(response.body) : route.response ? [response.json] : [];
      const accepted = bodies.every((body) => route.response?.safeParse(body).success === true);
      outcomes.push([
        key,
        response.statusCode,
        route.status,
        accepted && (route.status === 204) === (bodies.length === 0),
      ]);
    }

    // Assess
    expect(outcomes).toEqual(outcomes.map(([key, , status]) => [key, status, status, true]));
  });
});
