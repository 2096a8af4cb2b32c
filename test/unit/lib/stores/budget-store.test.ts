/**
 * DynamoBudgetStore.read (design §12): counters are read strongly consistent through the shared
 * batched reader, so a deployment's shards (more than one BatchGetItem's 100 keys when configured
 * so) come back in order, a missing counter reads as zero, and counters DynamoDB keeps leaving
 * unprocessed fail closed with 503.
 */
import type { BudgetCounterRef } from '../../../../lambdas/lib/budget.js';
import { ServiceUnavailableError } from '../../../../lambdas/lib/errors.js';
import { DynamoBudgetStore } from '../../../../lambdas/lib/stores/budget-store.js';
import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  DocumentClient,
  DocumentCommand,
} from '../../../../lambdas/lib/stores/document-client.js';

const TABLE = 'security';
const refs = (count: number): BudgetCounterRef[] =>
  Array.from({ length: count }, (_, i) => ({ scope: 'deployment', key: String(i), day: '2026-11-30' }));

/** A client whose BatchGetItem answers with `answer` and records what each call asked for. */
function storeWith(answer: (keys: Record<string, unknown>[]) => BatchGetCommandOutput) {
  const calls: Record<string, unknown>[][] = [];
  const client: DocumentClient = {
    send: async <I, O>(command: DocumentCommand<I, O>) => {
      const input = command.input as BatchGetCommandInput;
      const keys = (input.RequestItems?.[TABLE]?.Keys ?? []) as Record<string, unknown>[];
      expect(input.RequestItems?.[TABLE]?.ConsistentRead).toBe(true);
      calls.push(keys);
      return answer(keys) as O;
    },
  };
  return { calls, store: new DynamoBudgetStore({ client, tableName: TABLE }) };
}

describe('DynamoBudgetStore.read', () => {
  it('should read 150 counters in batches of at most 100, in order, zero where none is stored', async () => {
    // Prepare: every even shard has spent tokens equal to its number.
    const { calls, store } = storeWith((keys) => ({
      $metadata: {},
      Responses: {
        [TABLE]: keys
          .map((key) => ({ key, shard: Number(String(key.PK).split('#')[2]) }))
          .filter(({ shard }) => shard % 2 === 0)
          .map(({ key, shard }) => ({ ...key, inputTokens: shard, reserved: 1, outputTokens: 2, turns: 3 })),
      },
    }));

    // Act
    const counters = await store.read(refs(150));

    // Assess
    expect(calls.map((keys) => keys.length)).toEqual([100, 50]);
    expect(counters[4]).toEqual({ reserved: 1, inputTokens: 4, outputTokens: 2, turns: 3 });
    expect(counters[5]).toEqual({ reserved: 0, inputTokens: 0, outputTokens: 0, turns: 0 });
    expect(counters[148]?.inputTokens).toBe(148);
  });

  it('should fail closed with 503 when DynamoDB keeps leaving the counters unprocessed', async () => {
    // Prepare
    const { calls, store } = storeWith((keys) => ({
      $metadata: {},
      UnprocessedKeys: { [TABLE]: { Keys: keys, ConsistentRead: true } },
    }));

    // Act
    const read = store.read(refs(2));

    // Assess
    await expect(read).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(calls.length).toBeGreaterThan(1);
  });
});
