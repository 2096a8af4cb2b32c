/**
 * Where the client CPU of one DynamoDB call goes: `GetItem` and `UpdateItem` sent one after the
 * other, timed with `process.cpuUsage` (user + system µs per call). The same calls go through
 * lib-dynamodb's document client (marshalling both ways, middleware resolved per send), the
 * low-level client with prebuilt attribute maps (with and without `cacheMiddleware`), and the
 * stores' own `LazyDocumentClient` (util-dynamodb conversion, low-level commands, cached
 * middleware); through a stub HTTP handler that answers at once (the SDK's middleware stack,
 * serialization and parsing alone), the same without the signing middleware (what SigV4 costs),
 * and over loopback HTTP to DynamoDB Local (what the HTTP client adds), with the SDK's default
 * handler or the runtime's client (`loadDynamoDbClient`: shared keep-alive agents, cached middleware). Three rounds in turn, medians reported.
 * `npx tsx bench/call-cost.ts` (BENCH_CALLS per variant and round, default 1000).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { loadDynamoDbClient } from '../lambdas/lib/clients.js';
import {
  GetCommand as OurGet,
  LazyDocumentClient,
  UpdateCommand as OurUpdate,
} from '../lambdas/lib/stores/document-client.js';
import { startDynamoDb } from '../local/dynamodb.js';
import { median, round, table } from './stats.js';

const TABLE = 'call-cost';
const ROUNDS = 3;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const ITEM = { pk: 'rl#ip#203.0.113.7#window#29462011', count: 3, expiresAt: 1767139200, tier: 'ip', limit: 60 };
const RAW_KEY = { pk: { S: ITEM.pk } };
const RAW_ITEM = {
  pk: { S: ITEM.pk },
  count: { N: '3' },
  expiresAt: { N: '1767139200' },
  tier: { S: 'ip' },
  limit: { N: '60' },
};
const UPDATE = {
  UpdateExpression: 'ADD #count :one SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
  ExpressionAttributeNames: { '#count': 'count', '#expiresAt': 'expiresAt' },
};
const RAW_UPDATE_VALUES = { ':one': { N: '1' }, ':expiresAt': { N: '1767139200' } };

/** A request handler that answers every call at once with `body`: no socket, no engine. */
function stubHandler(body: string) {
  return {
    handle: async () => ({
      // The shape of @smithy's HttpResponse, which the deserializers read.
      response: {
        statusCode: 200,
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'stub' },
        body: Readable.from([Buffer.from(body)]),
      },
    }),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
}

type Call = () => Promise<unknown>;

interface Row {
  readonly variant: string;
  readonly cpuUs: number;
  readonly wallUs: number;
}

async function measure(variant: string, call: Call, calls: number): Promise<Row> {
  for (let i = 0; i < Math.min(200, calls); i += 1) await call();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < calls; i += 1) await call();
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { variant, cpuUs: round((used.user + used.system) / calls, 1), wallUs: round((wall * 1000) / calls, 1) };
}

const low = (client: DynamoDBClient) => ({
  get: () => client.send(new GetItemCommand({ TableName: TABLE, Key: RAW_KEY, ConsistentRead: true })),
  update: () =>
    client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: RAW_KEY,
        ...UPDATE,
        ExpressionAttributeValues: RAW_UPDATE_VALUES,
      }),
    ),
});

/** The two document-level requests, the same for lib-dynamodb's client and ours. */
const DOC_GET = { TableName: TABLE, Key: { pk: ITEM.pk }, ConsistentRead: true };
const DOC_UPDATE = {
  TableName: TABLE,
  Key: { pk: ITEM.pk },
  ...UPDATE,
  ExpressionAttributeValues: { ':one': 1, ':expiresAt': ITEM.expiresAt },
};

const ours = (client: DynamoDBClient) => {
  const d = new LazyDocumentClient(async () => client);
  return { get: () => d.send(new OurGet(DOC_GET)), update: () => d.send(new OurUpdate(DOC_UPDATE)) };
};

const doc = (client: DynamoDBClient) => {
  const d = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { get: () => d.send(new GetCommand(DOC_GET)), update: () => d.send(new UpdateCommand(DOC_UPDATE)) };
};

async function main(): Promise<void> {
  const calls = Number(process.env.BENCH_CALLS ?? 1000);
  const dataDir = await mkdtemp(join(tmpdir(), 'chat-widget-call-cost-'));
  const db = await startDynamoDb('memory', dataDir);
  try {
    const region = 'us-east-1';
    const plain = new DynamoDBClient({ endpoint: db.endpoint, region, credentials: db.credentials });
    await plain.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
    await plain.send(new PutItemCommand({ TableName: TABLE, Item: RAW_ITEM }));

    const stub = (body: string, cacheMiddleware = false) =>
      new DynamoDBClient({
        endpoint: db.endpoint,
        region,
        credentials: CREDENTIALS,
        requestHandler: stubHandler(body),
        cacheMiddleware,
      });
    const getBody = JSON.stringify({ Item: RAW_ITEM });
    const updateBody = '{}';
    const unsigned = (body: string) => {
      const client = stub(body);
      client.middlewareStack.remove('httpSigningMiddleware');
      return client;
    };
    const runtimeClient = await loadDynamoDbClient({ endpoint: db.endpoint, region, credentials: db.credentials });

    const variants: [string, Call][] = [];
    for (const [op, body] of [
      ['GetItem', getBody],
      ['UpdateItem', updateBody],
    ] as const) {
      const pick = (c: { get: Call; update: Call }) => (op === 'GetItem' ? c.get : c.update);
      variants.push(
        [`${op} lib-dynamodb document client, stub HTTP`, pick(doc(stub(body)))],
        [`${op} low-level, stub HTTP`, pick(low(stub(body)))],
        [`${op} low-level, stub HTTP, cacheMiddleware`, pick(low(stub(body, true)))],
        [`${op} low-level, stub HTTP, unsigned`, pick(low(unsigned(body)))],
        [`${op} ours (LazyDocumentClient), stub HTTP, cacheMiddleware`, pick(ours(stub(body, true)))],
        [`${op} lib-dynamodb document client, loopback, default handler`, pick(doc(plain))],
        [`${op} low-level, loopback, default handler`, pick(low(plain))],
        [`${op} ours (LazyDocumentClient), loopback, runtime client`, pick(ours(runtimeClient))],
      );
    }
    const runs = new Map<string, Row[]>();
    for (let r = 0; r < ROUNDS; r += 1) {
      for (const [variant, call] of variants)
        runs.set(variant, [...(runs.get(variant) ?? []), await measure(variant, call, calls)]);
    }
    const rows: Row[] = [...runs].map(([variant, rs]) => ({
      variant,
      cpuUs: round(median(rs.map((r) => r.cpuUs)), 1),
      wallUs: round(median(rs.map((r) => r.wallUs)), 1),
    }));
    process.stdout.write(
      `\nClient CPU per DynamoDB call (medians of ${ROUNDS} rounds of ${calls} sequential calls, ${db.engine}, node ${process.version}):\n`,
    );
    process.stdout.write(
      `${table(
        ['variant', 'CPU µs / call', 'wall µs / call'],
        rows.map((r) => [r.variant, r.cpuUs, r.wallUs]),
      )}\n`,
    );
    plain.destroy();
    runtimeClient.destroy();
  } finally {
    await db.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
