/**
 * The claim that stores the user's message in the same write (issue 20), on DynamoDB Local (a
 * real TransactWriteItems) and on dynalite (none): a message is stored only with a proven claim,
 * never in a stranger's session; a session changed since it was read is only claimed (the caller
 * then stores); sequence numbers and `messageCount` stay the number of messages stored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDynamoDbClient } from '../../../../lambdas/lib/clients.js';
import type { ChatMessage, Owner } from '../../../../lambdas/lib/conversation.js';
import { NotFoundError } from '../../../../lambdas/lib/errors.js';
import { DynamoConversationStore } from '../../../../lambdas/lib/stores/conversation-store.js';
import { LazyDocumentClient } from '../../../../lambdas/lib/stores/document-client.js';
import { CONVERSATIONS_SCHEMA } from '../../../../lambdas/lib/stores/table-schema.js';
import { ensureTables, hasJava, startDynamoDb, type EmbeddedDynamoDb } from '../../../../local/dynamodb.js';

const NOW = Date.UTC(2026, 10, 30, 12);
const ALICE: Owner = { kind: 'user', userId: 'alice' };
const MALLORY: Owner = { kind: 'user', userId: 'mallory' };
const message = (content: string, at = NOW): ChatMessage => ({
  role: 'user',
  content,
  createdAt: new Date(at).toISOString(),
});

describe.each([
  ['DynamoDB Local', 'memory' as const, true],
  ['dynalite', 'dynalite' as const, false],
])('claimWithMessage on %s', (_engine, mode, transactions) => {
  let dataDir: string;
  let engine: EmbeddedDynamoDb;
  let store: DynamoConversationStore;
  let session = 0;
  const claim = (sessionId: string, owner: Owner, seen: Awaited<ReturnType<DynamoConversationStore['get']>>) =>
    store.claimWithMessage({ sessionId, owner, origin: undefined, count: 2, now: NOW, seen, message: message('hi') });
  const contents = async (sessionId: string) => (await store.recentMessages(sessionId, 50, NOW)).map((m) => m.content);

  beforeAll(async () => {
    if (mode === 'memory' && !hasJava()) throw new Error('these tests need Java for DynamoDB Local');
    dataDir = await mkdtemp(join(tmpdir(), 'chat-widget-claim-'));
    engine = await startDynamoDb(mode, dataDir);
    const connection = { endpoint: engine.endpoint, credentials: engine.credentials, region: 'us-east-1' };
    const admin = new DynamoDBClient(connection);
    await ensureTables(admin, [{ name: 'conversations', schema: CONVERSATIONS_SCHEMA }]);
    admin.destroy();
    const client = new LazyDocumentClient(() => loadDynamoDbClient(connection));
    store = new DynamoConversationStore({ client, tableName: 'conversations', ttlDays: 30 });
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const fresh = () => `claim-${(session += 1)}`;

  it(`should ${transactions ? 'claim a new session and store the message at once' : 'only claim (no transactions)'}`, async () => {
    // Act
    const id = fresh();
    const claimed = await claim(id, ALICE, undefined);

    // Assess
    expect(claimed.seq).toBe(1);
    expect(claimed.key !== undefined).toBe(transactions);
    expect(await contents(id)).toEqual(transactions ? ['hi'] : []);
    expect((await store.get(id, NOW))?.messageCount).toBe(2);
  });

  it("should store at the next sequence number of the owner's session as it was read", async () => {
    // Prepare
    const id = fresh();
    await store.beginTurn({ sessionId: id, owner: ALICE, origin: undefined, count: 2, now: NOW });
    const seen = await store.get(id, NOW);

    // Act
    const claimed = await claim(id, ALICE, seen);

    // Assess
    expect(claimed.seq).toBe(3);
    expect((await store.get(id, NOW))?.messageCount).toBe(4);
  });

  it('should only claim a session that changed since it was read, at the sequence number after the change', async () => {
    // Prepare: another turn claimed two slots after the read.
    const id = fresh();
    await store.beginTurn({ sessionId: id, owner: ALICE, origin: undefined, count: 2, now: NOW });
    const seen = await store.get(id, NOW);
    await store.beginTurn({ sessionId: id, owner: ALICE, origin: undefined, count: 2, now: NOW });

    // Act
    const claimed = await claim(id, ALICE, seen);

    // Assess
    expect(claimed).toEqual({ seq: 5 });
    expect(await contents(id)).toEqual([]);
  });

  it.each([
    ['read as theirs', true],
    ['created between the read and the write', false],
  ])('should refuse a stranger a session %s with 404 and write nothing', async (_case, readAfter) => {
    // Prepare
    const id = fresh();
    const before = readAfter ? undefined : await store.get(id, NOW);
    await claim(id, ALICE, undefined);
    const seen = readAfter ? await store.get(id, NOW) : before;
    const owned = await store.get(id, NOW);

    // Act
    const outcome = claim(id, MALLORY, seen);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.get(id, NOW)).toEqual(owned);
    expect(await contents(id)).toEqual(transactions ? ['hi'] : []);
  });
});
