/**
 * `Authorization` is read once per request, whichever credential the route takes, and the
 * parsed value keeps the rules of RFC 6750 §2.1 that the credential checks rely on.
 */
import { readAuthorization } from '../../../../lambdas/http/middleware/auth/authorization.js';
import { auth } from '../../../../lambdas/http/middleware/auth/index.js';
import type { AppRequest } from '../../../../lambdas/http/request.js';
import { mintWidgetToken } from '../../../../lambdas/lib/tokens.js';
import { T0, fakeRuntime, type TestKeys } from '../../../helpers/fake-runtime.js';

/** Headers that count how often `authorization` is read. */
function countingHeaders(headers: Record<string, string>): { headers: Record<string, string>; reads: () => number } {
  let reads = 0;
  const proxy = new Proxy(headers, {
    get: (target, name: string) => {
      if (name === 'authorization') reads += 1;
      return target[name];
    },
  });
  return { headers: proxy, reads: () => reads };
}

const widgetToken = async (keys: TestKeys) =>
  (await mintWidgetToken(keys.signing, { userId: 'user-1', expiresInSeconds: 600 }, {}, T0)).token;

describe('Authorization header', () => {
  it.each<[string, 'widget' | 'admin' | 'server', (keys: TestKeys) => Promise<Record<string, string>>, string]>([
    [
      'a widget route with a token',
      'widget',
      async (k) => ({ 'x-widget-api-key': k.widget, authorization: `Bearer ${await widgetToken(k)}` }),
      'user:user-1',
    ],
    ['a widget route without a token', 'widget', async (k) => ({ 'x-widget-api-key': k.widget }), 'anonymous'],
    ['an admin route', 'admin', async (k) => ({ authorization: `Bearer ${k.admin}` }), 'admin'],
    ['the token route', 'server', async (k) => ({ authorization: `Bearer ${k.server}` }), 'server'],
  ])('It should read Authorization once on %s', async (_label, kind, present, actor) => {
    // Prepare
    const fake = fakeRuntime();
    const { runtime } = fake;
    const middleware = auth({
      kind,
      secrets: runtime.secrets,
      graceSeconds: runtime.config.secretGraceSeconds,
      role: () => (kind === 'server' ? 'tokens:mint' : 'admin'),
      tokenPolicy: { maxTtlSeconds: 3600 },
      audit: runtime.audit,
      clock: runtime.clock,
    });
    const { headers, reads } = countingHeaders(await present(fake.keys));
    const app = { requestId: 'r', ip: '203.0.113.7', method: 'POST', route: '/v1/chat', startedAt: T0 };
    const request = { event: { headers }, context: { app } } as unknown as AppRequest;

    // Act
    await middleware.before?.(request as never);

    // Assess
    expect(app).toMatchObject({ actor });
    expect(reads()).toBe(1);
  });

  it.each<[string, Record<string, string>, ReturnType<typeof readAuthorization>]>([
    ['no header', {}, { present: false }],
    ['an empty header', { authorization: '' }, { present: true }],
    ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }, { present: true }],
    ['a bearer with a space inside', { authorization: 'Bearer a b' }, { present: true }],
    ['a lower-case scheme with blanks around', { authorization: 'bearer   tok  ' }, { present: true, bearer: 'tok' }],
  ])('It should parse %s', (_label, headers, expected) => {
    // Act
    const parsed = readAuthorization(headers);

    // Assess
    expect(parsed).toEqual(expected);
  });
});
