/**
 * Signed webhooks over HTTP: a receiver on loopback verifies every delivery with its own
 * node:crypto code (the docs' recipe: HMAC-SHA256 of "id.timestamp.body", constant-time compare,
 * 5-minute tolerance, replay protection by id), sees retries after 500s with the same id, both
 * signatures during a rotation's grace period, no message text, and dropped events counted.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { generateSecret } from '../../lambdas/lib/secret-strength.js';
import { http, postJson, type List } from '../helpers/http.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
}

const TOLERANCE_SECONDS = 300;
const CURRENT = generateSecret();
const PREVIOUS = generateSecret();
const MAX_ATTEMPTS = 4;

/** The receiver's check, written from the docs alone: true when one signature verifies under one secret. */
function verify(
  secrets: readonly string[],
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  nowSeconds: number,
  seen: Set<string>,
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > TOLERANCE_SECONDS) return false;
  if (seen.has(headers.id)) return false;
  const signed = `${headers.id}.${headers.timestamp}.${body}`;
  const ok = headers.signature.split(',').some((part) => {
    const [version, hex] = part.trim().split('=');
    if (version !== 'v1' || hex === undefined) return false;
    const got = Buffer.from(hex, 'hex');
    return secrets.some((secret) => {
      const want = createHmac('sha256', secret).update(signed).digest();
      return got.length === want.length && timingSafeEqual(got, want);
    });
  });
  if (ok) seen.add(headers.id);
  return ok;
}

const headersOf = (d: Delivery) => ({
  id: String(d.headers['x-webhook-id']),
  timestamp: String(d.headers['x-webhook-timestamp']),
  signature: String(d.headers['x-webhook-signature']),
});

describe('signed webhooks', () => {
  let server: RunningServer;
  let receiver: Server;
  const deliveries: Delivery[] = [];
  /** Status the receiver answers, by event type (default 200). */
  const failing = new Map<string, number>();
  /** How many more times to fail each event id with 500 before accepting it. */
  const failTimes = new Map<string, number>();
  let failNextSessions = 0;
  const waiters = new Set<() => void>();

  const waitFor = <T>(pick: () => T | undefined, timeoutMs = 20_000): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = pick();
        if (found !== undefined) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no such delivery among ${deliveries.length}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const chat = (sessionId: string, message: string) =>
    postJson(`${server.url}/v1/chat`, { sessionId, message }, { 'X-Widget-Api-Key': server.secrets.widgetKey });
  const ofSession = (sessionId: string) => deliveries.filter((d) => d.event.data.sessionId === sessionId);

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const event = JSON.parse(body) as Delivery['event'];
        deliveries.push({ headers: req.headers, body, event });
        if (event.type === 'conversation.created' && failNextSessions > 0) {
          failNextSessions -= 1;
          failTimes.set(event.id, 2);
        }
        const left = failTimes.get(event.id) ?? 0;
        if (left > 0) failTimes.set(event.id, left - 1);
        res.statusCode = left > 0 ? 500 : (failing.get(event.type) ?? 200);
        res.end();
        for (const waiter of waiters) waiter();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    const address = receiver.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    server = await startServer({
      WEBHOOK_URL: `http://127.0.0.1:${port}/hooks`,
      WEBHOOK_SIGNING_SECRET: CURRENT,
      WEBHOOK_SIGNING_SECRET_PREVIOUS: PREVIOUS,
      WEBHOOK_RETRY_BASE_MS: '20',
      WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  it('It should send conversation.created and message.created for a turn, signed and without the text', async () => {
    // Act
    const res = await chat('hook-1', 'my secret plans for Tuesday');
    const got = await waitFor(() => (ofSession('hook-1').length >= 3 ? ofSession('hook-1') : undefined));

    // Assess
    expect(res.status).toBe(200);
    expect(got.map((d) => d.event.type).sort()).toEqual(['conversation.created', 'message.created', 'message.created']);
    expect(got.filter((d) => d.event.type === 'message.created').map((d) => d.event.data)).toEqual(
      expect.arrayContaining([
        { sessionId: 'hook-1', role: 'user', sequence: 1 },
        { sessionId: 'hook-1', role: 'assistant', sequence: 2 },
      ]),
    );
    const seen = new Set<string>();
    for (const d of got) {
      expect(d.headers['content-type']).toBe('application/json');
      expect(headersOf(d).id).toBe(d.event.id);
      expect(verify([CURRENT], headersOf(d), d.body, Math.floor(Date.now() / 1000), seen)).toBe(true);
      expect(d.body).not.toContain('secret plans');
      expect(d.body).not.toContain('Tuesday');
    }
  });

  it('It should sign with the new and the old secret during the grace period, new first', async () => {
    // Act
    await chat('hook-2', 'hello');
    const d = await waitFor(() => ofSession('hook-2').find((x) => x.event.type === 'conversation.created'));

    // Assess
    const parts = headersOf(d).signature.split(',');
    expect(parts).toHaveLength(2);
    const now = Math.floor(Date.now() / 1000);
    expect(verify([CURRENT], { ...headersOf(d), signature: parts[0]! }, d.body, now, new Set())).toBe(true);
    expect(verify([PREVIOUS], { ...headersOf(d), signature: parts[1]! }, d.body, now, new Set())).toBe(true);
    expect(verify([PREVIOUS], { ...headersOf(d), signature: parts[0]! }, d.body, now, new Set())).toBe(false);
  });

  it.each([
    ['a tampered body', (d: Delivery) => ({ body: d.body.replace('hook-3', 'hook-X'), now: 0, secret: CURRENT })],
    ['a body with a byte added', (d: Delivery) => ({ body: `${d.body} `, now: 0, secret: CURRENT })],
    [
      'an old timestamp (over 5 minutes)',
      (d: Delivery) => ({ body: d.body, now: TOLERANCE_SECONDS + 1, secret: CURRENT }),
    ],
    [
      'a timestamp from the future',
      (d: Delivery) => ({ body: d.body, now: -(TOLERANCE_SECONDS + 1), secret: CURRENT }),
    ],
    ['a foreign secret', (d: Delivery) => ({ body: d.body, now: 0, secret: generateSecret() })],
  ])('It should let the receiver reject %s', async (_label, alter) => {
    // Prepare
    await chat('hook-3', 'hello');
    const d = await waitFor(() => ofSession('hook-3').find((x) => x.event.type === 'conversation.created'));
    const { body, now, secret } = alter(d);
    const sent = Number(headersOf(d).timestamp);

    // Act
    const accepted = verify([secret], headersOf(d), body, sent + now, new Set());

    // Assess
    expect(verify([CURRENT], headersOf(d), d.body, sent, new Set())).toBe(true);
    expect(accepted).toBe(false);
  });

  it('It should let the receiver reject a replay of a delivery it accepted', async () => {
    // Prepare
    await chat('hook-4', 'hello');
    const d = await waitFor(() => ofSession('hook-4').find((x) => x.event.type === 'conversation.created'));
    const seen = new Set<string>();
    const now = Number(headersOf(d).timestamp);

    // Act
    const first = verify([CURRENT], headersOf(d), d.body, now, seen);
    const replay = verify([CURRENT], headersOf(d), d.body, now, seen);

    // Assess
    expect([first, replay]).toEqual([true, false]);
  });

  it('It should retry after 500s with the same id, a fresh timestamp and a valid signature, until accepted', async () => {
    // Prepare: the receiver fails the next conversation.created twice.
    failNextSessions = 1;

    // Act
    await chat('hook-5', 'hello');
    const attempts = await waitFor(() => {
      const created = ofSession('hook-5').filter((x) => x.event.type === 'conversation.created');
      return created.length >= 3 ? created : undefined;
    });

    // Assess
    expect(new Set(attempts.map((d) => d.event.id)).size).toBe(1);
    const stamps = attempts.map((d) => Number(headersOf(d).timestamp));
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
    for (const d of attempts) expect(verify([CURRENT], headersOf(d), d.body, stamps[2]!, new Set())).toBe(true);
  });

  it(`It should give up after ${MAX_ATTEMPTS} attempts and count the event in the audit trail as webhook.dropped`, async () => {
    // Prepare: the receiver refuses conversation.deleted for good.
    failing.set('conversation.deleted', 500);
    await chat('hook-6', 'hello');

    // Act
    const del = await http(`${server.url}/v1/admin/conversations/hook-6`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${server.secrets.adminKey}` },
    });
    const attempts = await waitFor(() => {
      const found = deliveries.filter(
        (x) =>
          x.event.type === 'conversation.deleted' &&
          (x.event.data.detail as { sessionId?: string }).sessionId === 'hook-6',
      );
      return found.length >= MAX_ATTEMPTS ? found : undefined;
    });
    const eventId = attempts[0]!.event.id;
    let dropped: { detail: Record<string, unknown> } | undefined;
    for (let i = 0; i < 50 && dropped === undefined; i += 1) {
      const audit = await http(`${server.url}/v1/admin/audit?type=webhook.dropped`, {
        headers: { Authorization: `Bearer ${server.secrets.adminKey}` },
      });
      dropped = (audit.json as List<{ detail: Record<string, unknown> }>).items.find(
        (e) => e.detail.eventId === eventId,
      );
      if (dropped === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // Assess
    expect(del.status).toBe(204);
    expect(attempts).toHaveLength(MAX_ATTEMPTS);
    expect(dropped?.detail).toEqual({
      eventId,
      eventType: 'conversation.deleted',
      reason: 'attempts_exhausted',
      attempts: MAX_ATTEMPTS,
    });
    expect(deliveries.some((x) => x.event.type === 'webhook.dropped')).toBe(false);
  });

  it('It should send security events (design §9) with who, where and what, never the credential', async () => {
    // Act
    const res = await http(`${server.url}/v1/admin/conversations`, {
      headers: { Authorization: 'Bearer wrong-key-value-123' },
    });
    const d = await waitFor(() => deliveries.find((x) => x.event.type === 'auth.failure'));

    // Assess
    expect(res.status).toBe(401);
    expect(d.event.data).toMatchObject({ route: '/v1/admin/conversations', method: 'GET', ip: '127.0.0.1' });
    expect(d.body).not.toContain('wrong-key-value-123');
    expect(verify([CURRENT], headersOf(d), d.body, Number(headersOf(d).timestamp), new Set())).toBe(true);
  });
});
