/**
 * Repeated security-relevant headers through the real chain, with API Gateway REST proxy events
 * (`headers` keeps the last copy, `multiValueHeaders` every copy): different values are 400
 * `VALIDATION_FAILED` before authentication, whatever copy would have won; identical repeats pass.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { build as buildChat } from '../../../../lambdas/handlers/post-chat.js';
import { mintWidgetToken } from '../../../../lambdas/lib/tokens.js';
import { apiEvent, chatRequest, errorOf, fakeRuntime, invoke, T0 } from '../../../helpers/fake-runtime.js';

/** A REST proxy event whose headers arrived as `pairs`, in order: last value in `headers`, all in `multiValueHeaders`. */
function eventWith(base: APIGatewayProxyEvent, pairs: ReadonlyArray<[string, string]>): APIGatewayProxyEvent {
  const multi: Record<string, string[]> = {};
  for (const [name, value] of pairs) (multi[name] ??= []).push(value);
  return {
    ...base,
    headers: Object.fromEntries(Object.entries(multi).map(([name, values]) => [name, values.at(-1) as string])),
    multiValueHeaders: multi,
  };
}

describe('repeated security-relevant headers', () => {
  const setup = async () => {
    const fake = fakeRuntime();
    const handler = buildChat(fake.runtime);
    const mint = (userId: string) =>
      mintWidgetToken(fake.keys.signing, { userId, expiresInSeconds: 600 }, {}, T0).then((t) => t.token);
    const base = apiEvent(chatRequest(fake.keys.widget));
    const json: [string, string] = ['Content-Type', 'application/json'];
    const widget: [string, string] = ['X-Widget-Api-Key', fake.keys.widget];
    return { fake, handler, mint, base, json, widget };
  };

  it.each<[string, (s: Awaited<ReturnType<typeof setup>>) => Promise<Array<[string, string]>>]>([
    [
      'two bearer tokens of two users',
      async (s) => [
        s.json,
        s.widget,
        ['Authorization', `Bearer ${await s.mint('alice')}`],
        ['Authorization', `Bearer ${await s.mint('mallory')}`],
      ],
    ],
    [
      'a malformed then a valid bearer token',
      async (s) => [
        s.json,
        s.widget,
        ['Authorization', 'Bearer not-a-jwt'],
        ['Authorization', `Bearer ${await s.mint('alice')}`],
      ],
    ],
    ['a wrong then a right widget key', async (s) => [s.json, ['X-Widget-Api-Key', 'wrong'], s.widget]],
    ['text/plain then application/json', async (s) => [['Content-Type', 'text/plain'], s.json, s.widget]],
    ['two origins', async (s) => [s.json, s.widget, ['Origin', 'https://a.example'], ['Origin', 'https://b.example']]],
    ['two idempotency keys', async (s) => [s.json, s.widget, ['Idempotency-Key', 'k1'], ['Idempotency-Key', 'k2']]],
    ['two cookies', async (s) => [s.json, s.widget, ['Cookie', 'a=1'], ['Cookie', 'a=2']]],
    [
      'the same header in two spellings',
      async (s) => [
        s.json,
        s.widget,
        ['authorization', 'Bearer not-a-jwt'],
        ['Authorization', `Bearer ${await s.mint('alice')}`],
      ],
    ],
  ])('should refuse %s with 400 VALIDATION_FAILED before authentication', async (_name, headersOf) => {
    // Prepare
    const s = await setup();
    const event = eventWith(s.base, await headersOf(s));

    // Act
    const response = await invoke(s.handler, event);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(response.headers['X-Request-Id']).toEqual(expect.any(String));
    expect(s.fake.auditStore.ofType('auth.failure')).toEqual([]);
    expect(s.fake.auditStore.ofType('token.invalid')).toEqual([]);
    expect(await s.fake.conversations.get('session-1')).toBeUndefined();
  });

  it('should accept a header repeated with the same value', async () => {
    // Prepare
    const s = await setup();
    const event = eventWith(s.base, [s.json, s.json, s.widget, s.widget]);

    // Act
    const response = await invoke(s.handler, event);

    // Assess
    expect(response.statusCode).toBe(200);
  });

  it('should not care about repeats of other headers', async () => {
    // Prepare
    const s = await setup();
    const event = eventWith(s.base, [s.json, s.widget, ['Accept', 'text/html'], ['Accept', 'application/json']]);

    // Act
    const response = await invoke(s.handler, event);

    // Assess
    expect(response.statusCode).toBe(200);
  });
});
