/**
 * Coalesced consistent reads (issue 20): reads begun in one turn of the event loop, on any table,
 * go out as one BatchGetItem; duplicates are asked once; keys DynamoDB leaves unprocessed are asked
 * again and fail closed when they stay unprocessed; a failed call fails every read it carried.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, type BatchGetCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ServiceUnavailableError } from '../../../../lambdas/lib/errors.js';
import { consistentReads } from '../../../../lambdas/lib/stores/consistent-reads.js';
import type { DocumentClient, DocumentCommand } from '../../../../lambdas/lib/stores/document-client.js';

const key = (id: string) => ({ PK: id, SK: id });

/** A fresh document client (the reader is shared per client) and its mock. */
function setup() {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const mock = mockClient(client);
  // The stores' client, over lib-dynamodb's so the mock answers (the reader only sends BatchGetItem).
  const stores: DocumentClient = {
    send: async <I, O>(command: DocumentCommand<I, O>) =>
      (await client.send(new BatchGetCommand(command.input as BatchGetCommandInput))) as O,
  };
  return { client, mock, reads: consistentReads(stores) };
}

/** The keys each BatchGetItem asked for, per table. */
const asked = (mock: ReturnType<typeof setup>['mock']) =>
  mock.commandCalls(BatchGetCommand).map((call) => {
    const input = call.args[0].input;
    return Object.fromEntries(
      Object.entries(input.RequestItems ?? {}).map(([table, r]) => [
        table,
        { keys: r.Keys, consistent: r.ConsistentRead },
      ]),
    );
  });

describe('consistentReads', () => {
  it('should read keys of two tables, begun across awaited steps, in one strongly consistent BatchGetItem', async () => {
    // Prepare
    const { mock, reads } = setup();
    mock.on(BatchGetCommand).resolves({
      Responses: { security: [{ ...key('a'), n: 1 }], conversations: [{ ...key('m'), n: 2 }] },
    });

    // Act: like Middy, each step begins its read after awaiting the one before.
    const first = reads.get('security', key('a'));
    await Promise.resolve();
    const second = reads.get('security', key('b'));
    await Promise.resolve();
    const third = reads.get('conversations', key('m'));
    const results = await Promise.all([first, second, third]);

    // Assess
    expect(results).toEqual([{ ...key('a'), n: 1 }, undefined, { ...key('m'), n: 2 }]);
    expect(asked(mock)).toEqual([
      {
        security: { keys: [key('a'), key('b')], consistent: true },
        conversations: { keys: [key('m')], consistent: true },
      },
    ]);
  });

  it('should ask for a key read twice once, and answer both reads', async () => {
    const { mock, reads } = setup();
    mock.on(BatchGetCommand).resolves({ Responses: { t: [{ ...key('a'), n: 1 }] } });
    const results = await Promise.all([reads.get('t', key('a')), reads.get('t', key('a'))]);
    expect(results).toEqual([
      { ...key('a'), n: 1 },
      { ...key('a'), n: 1 },
    ]);
    expect(asked(mock)).toEqual([{ t: { keys: [key('a')], consistent: true } }]);
  });

  it('should never answer from an earlier read: each get is a new call', async () => {
    const { mock, reads } = setup();
    mock
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { t: [{ ...key('a'), n: 1 }] } })
      .resolves({
        Responses: { t: [{ ...key('a'), n: 2 }] },
      });
    expect(await reads.get('t', key('a'))).toEqual({ ...key('a'), n: 1 });
    expect(await reads.get('t', key('a'))).toEqual({ ...key('a'), n: 2 });
    expect(mock.commandCalls(BatchGetCommand)).toHaveLength(2);
  });

  it('should ask again for unprocessed keys, and fail closed on those that stay unprocessed only', async () => {
    // Prepare: `b` is never processed.
    const { mock, reads } = setup();
    mock
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { t: [] }, UnprocessedKeys: { t: { Keys: [key('a'), key('b')] } } })
      .resolvesOnce({ Responses: { t: [{ ...key('a'), n: 1 }] }, UnprocessedKeys: { t: { Keys: [key('b')] } } })
      .resolves({ Responses: { t: [] }, UnprocessedKeys: { t: { Keys: [key('b')] } } });

    // Act
    const [a, b] = await Promise.allSettled([reads.get('t', key('a')), reads.get('t', key('b'))]);

    // Assess
    expect(a).toEqual({ status: 'fulfilled', value: { ...key('a'), n: 1 } });
    expect(b.status === 'rejected' && b.reason).toBeInstanceOf(ServiceUnavailableError);
    expect(asked(mock).map((call) => call.t?.keys)).toEqual([[key('a'), key('b')], [key('a'), key('b')], [key('b')]]);
  });

  it('should fail every read of a call that failed', async () => {
    const { mock, reads } = setup();
    const failure = new ServiceUnavailableError();
    mock.on(BatchGetCommand).rejects(failure);
    const results = await Promise.allSettled([reads.get('t', key('a')), reads.get('u', key('b'))]);
    expect(results).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
  });

  it('should split more than 100 keys into calls of at most 100', async () => {
    const { mock, reads } = setup();
    mock.on(BatchGetCommand).resolves({ Responses: { t: [] } });
    await Promise.all(Array.from({ length: 150 }, (_, i) => reads.get('t', key(`k${i}`))));
    expect(asked(mock).map((call) => call.t?.keys?.length)).toEqual([100, 50]);
  });
});
