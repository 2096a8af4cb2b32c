import { createHmac, timingSafeEqual } from 'node:crypto';
import { CachingSecretProvider } from '../../../../lambdas/lib/secrets.js';
import { messageCreated } from '../../../../lambdas/lib/webhooks/events.js';
import { WebhookSender, backoffMs } from '../../../../lambdas/lib/webhooks/sender.js';
import { FakeClock, FakeSecretSource, T0, makeKeys, snapshotOf } from '../../../helpers/fake-runtime.js';

const GRACE_SECONDS = 600;
const URL = 'http://127.0.0.1:9/hook';

/** An independent check of one `v1=` signature (what a receiver does). */
const verifies = (secret: string, id: string, timestamp: string, body: string, signature: string): boolean => {
  const want = createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest();
  const got = Buffer.from(signature.replace(/^v1=/, ''), 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
};

function setup(answer: () => Promise<Response>, withPrevious = false) {
  const clock = new FakeClock();
  const keys = makeKeys();
  const old = makeKeys().webhook;
  const snapshot = snapshotOf(keys, T0);
  const source = new FakeSecretSource(
    withPrevious
      ? {
          ...snapshot,
          'webhook-signing-secret': {
            ...snapshot['webhook-signing-secret'],
            previous: { versionId: 'old', value: old, createdAt: T0 - 86_400_000 },
          },
        }
      : snapshot,
  );
  const secrets = new CachingSecretProvider({
    source,
    ttlSeconds: 300,
    maxStaleSeconds: 0,
    production: false,
    clock: clock.now,
  });
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return answer();
  }) as unknown as typeof globalThis.fetch;
  const sender = new WebhookSender({
    url: URL,
    secrets,
    graceSeconds: GRACE_SECONDS,
    timeoutMs: 1000,
    clock: clock.now,
    fetch,
  });
  return { sender, calls, clock, current: keys.webhook, old };
}

describe('WebhookSender', () => {
  it('It should POST the event as JSON with an id, a timestamp and a signature a receiver can verify', async () => {
    // Prepare
    const { sender, calls, current } = setup(async () => new Response(null, { status: 204 }));
    const event = messageCreated('s-1', 'user', 0, T0);

    // Act
    const result = await sender.attempt(event);

    // Assess
    expect(result).toEqual({ delivered: true, status: 204 });
    const { url, init } = calls[0]!;
    const headers = init.headers as Record<string, string>;
    expect(url).toBe(URL);
    expect(init.method).toBe('POST');
    expect(JSON.parse(init.body as string)).toEqual(event);
    expect(headers['X-Webhook-Id']).toBe(event.id);
    expect(headers['X-Webhook-Timestamp']).toBe(String(T0 / 1000));
    expect(headers['X-Webhook-Signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifies(current, event.id, String(T0 / 1000), init.body as string, headers['X-Webhook-Signature']!)).toBe(
      true,
    );
  });

  it.each([
    ['inside the grace period', GRACE_SECONDS * 1000 - 1, 2],
    ['after the grace period', GRACE_SECONDS * 1000, 1],
  ])('It should sign with the current and the previous secret %s', async (_label, elapsed, count) => {
    // Prepare
    const { sender, calls, clock, current, old } = setup(async () => new Response(null, { status: 200 }), true);
    clock.set(T0 + elapsed);

    // Act
    await sender.attempt(messageCreated('s-1', 'user', 0, T0));

    // Assess
    const { init } = calls[0]!;
    const headers = init.headers as Record<string, string>;
    const signatures = headers['X-Webhook-Signature']!.split(',');
    expect(signatures).toHaveLength(count);
    const args = [headers['X-Webhook-Id']!, headers['X-Webhook-Timestamp']!, init.body as string] as const;
    expect(verifies(current, ...args, signatures[0]!)).toBe(true);
    if (count === 2) expect(verifies(old, ...args, signatures[1]!)).toBe(true);
  });

  it.each([
    ['a 200', async () => new Response('ok', { status: 200 }), { delivered: true, status: 200 }],
    ['a 299', async () => new Response(null, { status: 299 }), { delivered: true, status: 299 }],
    ['a redirect', async () => new Response(null, { status: 302 }), { delivered: false, status: 302 }],
    ['a 400', async () => new Response(null, { status: 400 }), { delivered: false, status: 400 }],
    ['a 500', async () => new Response(null, { status: 500 }), { delivered: false, status: 500 }],
    [
      'no answer',
      async () => {
        throw new TypeError('fetch failed');
      },
      { delivered: false },
    ],
  ])('It should tell whether %s delivered the event', async (_label, answer, expected) => {
    // Prepare
    const { sender } = setup(answer);

    // Act
    const result = await sender.attempt(messageCreated('s-1', 'user', 0, T0));

    // Assess
    expect(result).toEqual(expected);
  });

  it.each([
    [1, 1000, 1000],
    [2, 1000, 2000],
    [5, 1000, 16000],
    [30, 1000, 3_600_000],
  ])('It should wait after attempt %i (base %i ms) %i ms', (attempt, base, expected) => {
    // Act
    const wait = backoffMs(attempt, base);

    // Assess
    expect(wait).toBe(expected);
  });
});
