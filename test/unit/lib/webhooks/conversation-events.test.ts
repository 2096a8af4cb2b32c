/**
 * Events from real chat turns (the chain over in-memory stores): one `conversation.created` per
 * session, one `message.created` per stored message, never the text; security events forwarded
 * from the audit log within its budget (that `webhook.dropped` is never sent: test/e2e/webhooks).
 */
import { build as buildChat } from '../../../../lambdas/handlers/post-chat.js';
import { AuditLog } from '../../../../lambdas/lib/audit.js';
import { createLogger } from '../../../../lambdas/lib/logger.js';
import type { AuditEvent, AuditType } from '../../../../lambdas/lib/audit-events.js';
import { withConversationEvents } from '../../../../lambdas/lib/webhooks/conversation-events.js';
import type { WebhookEvent } from '../../../../lambdas/lib/webhooks/events.js';
import type { WebhookPublisher } from '../../../../lambdas/lib/webhooks/publisher.js';
import { FakeClock, InMemoryAuditStore, T0, chatRequest, fakeRuntime, invoke } from '../../../helpers/fake-runtime.js';

/** A publisher that keeps what it is given. */
const recording = () => {
  const events: WebhookEvent[] = [];
  const publisher: WebhookPublisher = { publish: async (event) => void events.push(event), close: () => undefined };
  return { events, publisher };
};

describe('conversation events', () => {
  it('It should publish conversation.created once and message.created per message, without the text', async () => {
    // Prepare
    const fake = fakeRuntime();
    const { events, publisher } = recording();
    const runtime = { ...fake.runtime, conversations: withConversationEvents(fake.conversations, publisher) };
    const chat = buildChat(runtime);

    // Act
    for (const message of ['first secret words', 'second secret words']) {
      const response = await invoke(chat, chatRequest(fake.keys.widget, { sessionId: 'ev-1', message }));
      expect(response.statusCode).toBe(200);
    }

    // Assess
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['conversation.created', { sessionId: 'ev-1' }],
      ['message.created', { sessionId: 'ev-1', role: 'user', sequence: 1 }],
      ['message.created', { sessionId: 'ev-1', role: 'assistant', sequence: 2 }],
      ['message.created', { sessionId: 'ev-1', role: 'user', sequence: 3 }],
      ['message.created', { sessionId: 'ev-1', role: 'assistant', sequence: 4 }],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(JSON.stringify(events)).not.toContain('secret words');
  });
});

describe('AuditLog forwarding', () => {
  const event = (type: AuditType, at: number): AuditEvent => ({
    type,
    actor: 'anonymous',
    ip: '203.0.113.7',
    method: 'GET',
    route: '/v1/admin/audit',
    requestId: 'r',
    at,
  });

  it('It should forward every stored event, and unauthenticated ones only within the per-second budget', async () => {
    // Prepare
    const clock = new FakeClock();
    const forwarded: AuditType[] = [];
    const audit = new AuditLog({
      store: new InMemoryAuditStore(),
      logger: createLogger('silent'),
      writesPerSecond: 2,
      forward: async (e) => void forwarded.push(e.type),
      clock: clock.now,
    });

    // Act
    for (let i = 0; i < 5; i += 1) await audit.record(event('auth.failure', T0));
    await audit.record(event('admin.access', T0));
    clock.advance(1000);
    await audit.record(event('auth.failure', T0 + 1000));

    // Assess
    expect(forwarded).toEqual(['auth.failure', 'auth.failure', 'admin.access', 'auth.failure']);
  });
});
