import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { messageCreated, type WebhookEvent } from '../../../../lambdas/lib/webhooks/events.js';
import type { DropReason } from '../../../../lambdas/lib/webhooks/publisher.js';
import { deliverBatch } from '../../../../lambdas/lib/webhooks/sqs-delivery.js';
import { T0 } from '../../../helpers/fake-runtime.js';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/webhooks';

const recordOf = (body: string, receiveCount: number, id = 'm-1'): SQSRecord =>
  ({
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount) },
  }) as unknown as SQSRecord;

function setup(delivered: boolean) {
  const sqs = mockClient(SQSClient);
  sqs.on(ChangeMessageVisibilityCommand).resolves({});
  const dropped: [string, DropReason, number][] = [];
  const sent: WebhookEvent[] = [];
  const options = {
    sender: {
      attempt: async (event: WebhookEvent) => {
        sent.push(event);
        return { delivered };
      },
    },
    sqs: new SQSClient({}),
    queueUrl: QUEUE_URL,
    maxAttempts: 4,
    retryBaseMs: 5000,
    onDropped: (e: Pick<WebhookEvent, 'id'>, reason: DropReason, attempts: number) =>
      dropped.push([e.id, reason, attempts]),
  };
  return { sqs, dropped, sent, options };
}

describe('deliverBatch', () => {
  afterEach(() => mockClient(SQSClient).restore());

  it('It should delete a delivered event (no batch item failure)', async () => {
    // Prepare
    const { options, sent, sqs } = setup(true);
    const event = messageCreated('s', 'user', 0, T0);

    // Act
    const result = await deliverBatch([recordOf(JSON.stringify(event), 1)], options);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sent).toEqual([event]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
  });

  it.each([
    [1, 5],
    [2, 10],
    [3, 20],
  ])('It should put a failed event back after attempt %i for %i s', async (attempt, seconds) => {
    // Prepare
    const { options, sqs, dropped } = setup(false);

    // Act
    const result = await deliverBatch([recordOf(JSON.stringify(messageCreated('s', 'user', 0, T0)), attempt)], options);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE_URL, ReceiptHandle: 'rh-m-1', VisibilityTimeout: seconds },
    ]);
    expect(dropped).toEqual([]);
  });

  it('It should count the event dropped on its last attempt and leave it to the dead-letter queue', async () => {
    // Prepare
    const { options, sqs, dropped } = setup(false);
    const event = messageCreated('s', 'user', 0, T0);

    // Act
    const result = await deliverBatch([recordOf(JSON.stringify(event), 4)], options);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(dropped).toEqual([[event.id, 'attempts_exhausted', 4]]);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
  });

  it.each([
    ['not JSON', 'nope'],
    ['not an event', JSON.stringify({ hello: 'world' })],
  ])('It should count a message that is %s as dropped and delete it', async (_label, body) => {
    // Prepare
    const { options, dropped, sent } = setup(true);

    // Act
    const result = await deliverBatch([recordOf(body, 1)], options);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sent).toEqual([]);
    expect(dropped).toEqual([['-', 'malformed', 0]]);
  });
});
