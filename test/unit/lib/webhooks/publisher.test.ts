import { jest } from '@jest/globals';
import { messageCreated, type WebhookEvent } from '../../../../lambdas/lib/webhooks/events.js';
import { InProcessWebhookQueue, type DropReason } from '../../../../lambdas/lib/webhooks/publisher.js';
import { T0 } from '../../../helpers/fake-runtime.js';

/** A sender that answers from a script and records when each attempt was made. */
function scripted(outcomes: boolean[]) {
  const attempts: { id: string; at: number }[] = [];
  const sender = {
    attempt: async (event: WebhookEvent) => {
      attempts.push({ id: event.id, at: Date.now() });
      return { delivered: outcomes.shift() ?? true };
    },
  };
  return { sender, attempts };
}

describe('InProcessWebhookQueue', () => {
  beforeEach(() => jest.useFakeTimers({ now: T0 }));
  afterEach(() => jest.useRealTimers());

  it('It should retry a failed delivery with exponential backoff until it is delivered', async () => {
    // Prepare
    const { sender, attempts } = scripted([false, false, true]);
    const dropped: DropReason[] = [];
    const queue = new InProcessWebhookQueue({
      sender,
      maxAttempts: 5,
      retryBaseMs: 100,
      onDropped: (_e, reason) => dropped.push(reason),
    });
    const event = messageCreated('s', 'user', 0, T0);

    // Act
    await queue.publish(event);
    await jest.advanceTimersByTimeAsync(10_000);

    // Assess
    expect(attempts.map((a) => a.id)).toEqual([event.id, event.id, event.id]);
    expect(attempts.map((a) => a.at - T0)).toEqual([0, 100, 300]);
    expect(dropped).toEqual([]);
  });

  it('It should give up after maxAttempts and report the event dropped once', async () => {
    // Prepare
    const { sender, attempts } = scripted(Array(10).fill(false) as boolean[]);
    const dropped: [string, DropReason, number][] = [];
    const queue = new InProcessWebhookQueue({
      sender,
      maxAttempts: 3,
      retryBaseMs: 100,
      onDropped: (e, reason, count) => dropped.push([e.id, reason, count]),
    });
    const event = messageCreated('s', 'user', 0, T0);

    // Act
    await queue.publish(event);
    await jest.advanceTimersByTimeAsync(60_000);

    // Assess
    expect(attempts).toHaveLength(3);
    expect(dropped).toEqual([[event.id, 'attempts_exhausted', 3]]);
  });

  it('It should drop new events beyond maxPending instead of growing without bound', async () => {
    // Prepare
    const { sender } = scripted(Array(10).fill(false) as boolean[]);
    const dropped: DropReason[] = [];
    const queue = new InProcessWebhookQueue({
      sender,
      maxAttempts: 5,
      retryBaseMs: 1000,
      maxPending: 2,
      onDropped: (_e, reason) => dropped.push(reason),
    });

    // Act
    for (let i = 0; i < 3; i += 1) await queue.publish(messageCreated('s', 'user', i, T0));

    // Assess
    expect(dropped).toEqual(['queue_full']);
    queue.close();
  });

  it('It should stop every retry when closed', async () => {
    // Prepare
    const { sender, attempts } = scripted(Array(10).fill(false) as boolean[]);
    const queue = new InProcessWebhookQueue({ sender, maxAttempts: 5, retryBaseMs: 100, onDropped: () => undefined });
    await queue.publish(messageCreated('s', 'user', 0, T0));
    await jest.advanceTimersByTimeAsync(0);

    // Act
    queue.close();
    await jest.advanceTimersByTimeAsync(60_000);

    // Assess
    expect(attempts).toHaveLength(1);
  });
});
