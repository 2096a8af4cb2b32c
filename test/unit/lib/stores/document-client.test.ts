/**
 * The stores' document client: each command goes out as the low-level command with its plain
 * values converted where lib-dynamodb converts them, comes back with them converted to plain
 * values, loads the SDK only on the first send, and fails closed when the SDK cannot be loaded.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand as QueryItemsCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ServiceUnavailableError } from '../../../../lambdas/lib/errors.js';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  LazyDocumentClient,
  PutCommand,
  QueryCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DocumentCommand,
} from '../../../../lambdas/lib/stores/document-client.js';

const T = 'table';
const ITEM = { pk: 'a', n: 1, tags: ['x'], gone: undefined };
const WIRE = { pk: { S: 'a' }, n: { N: '1' }, tags: { L: [{ S: 'x' }] } };
const KEY = { pk: 'a' };
const WIRE_KEY = { pk: { S: 'a' } };
const VALUES = { ':one': 1 };
const WIRE_VALUES = { ':one': { N: '1' } };

describe('LazyDocumentClient', () => {
  const dynamo = mockClient(DynamoDBClient);
  beforeEach(() => dynamo.reset());
  afterAll(() => dynamo.restore());

  const client = () => new LazyDocumentClient(async () => new DynamoDBClient({ region: 'us-east-1' }));

  it.each<[string, DocumentCommand<unknown, unknown>, new (input: never) => unknown, unknown, unknown, unknown]>([
    [
      'GetItem',
      new GetCommand({ TableName: T, Key: KEY, ConsistentRead: true }),
      GetItemCommand,
      { TableName: T, Key: WIRE_KEY, ConsistentRead: true },
      { Item: WIRE },
      { Item: { pk: 'a', n: 1, tags: ['x'] } },
    ],
    [
      'PutItem',
      new PutCommand({ TableName: T, Item: ITEM, ExpressionAttributeValues: VALUES, ConditionExpression: 'c' }),
      PutItemCommand,
      { TableName: T, Item: WIRE, ExpressionAttributeValues: WIRE_VALUES, ConditionExpression: 'c' },
      { Attributes: WIRE_KEY },
      { Attributes: KEY },
    ],
    [
      'UpdateItem',
      new UpdateCommand({ TableName: T, Key: KEY, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: VALUES }),
      UpdateItemCommand,
      { TableName: T, Key: WIRE_KEY, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: WIRE_VALUES },
      { Attributes: WIRE },
      { Attributes: { pk: 'a', n: 1, tags: ['x'] } },
    ],
    [
      'DeleteItem',
      new DeleteCommand({ TableName: T, Key: KEY }),
      DeleteItemCommand,
      { TableName: T, Key: WIRE_KEY },
      {},
      {},
    ],
    [
      'Query',
      new QueryCommand({ TableName: T, ExclusiveStartKey: KEY, ExpressionAttributeValues: VALUES, Limit: 2 }),
      QueryItemsCommand,
      { TableName: T, ExclusiveStartKey: WIRE_KEY, ExpressionAttributeValues: WIRE_VALUES, Limit: 2 },
      { Items: [WIRE_KEY, WIRE_KEY], LastEvaluatedKey: WIRE_KEY, Count: 2 },
      { Items: [KEY, KEY], LastEvaluatedKey: KEY, Count: 2 },
    ],
    [
      'BatchGetItem',
      new BatchGetCommand({ RequestItems: { [T]: { Keys: [KEY], ConsistentRead: true } } }),
      BatchGetItemCommand,
      { RequestItems: { [T]: { Keys: [WIRE_KEY], ConsistentRead: true } } },
      { Responses: { [T]: [WIRE_KEY] }, UnprocessedKeys: { [T]: { Keys: [WIRE_KEY] } } },
      { Responses: { [T]: [KEY] }, UnprocessedKeys: { [T]: { Keys: [KEY] } } },
    ],
    [
      'BatchWriteItem',
      new BatchWriteCommand({
        RequestItems: { [T]: [{ PutRequest: { Item: KEY } }, { DeleteRequest: { Key: KEY } }] },
      }),
      BatchWriteItemCommand,
      { RequestItems: { [T]: [{ PutRequest: { Item: WIRE_KEY } }, { DeleteRequest: { Key: WIRE_KEY } }] } },
      { UnprocessedItems: { [T]: [{ PutRequest: { Item: WIRE_KEY } }] } },
      { UnprocessedItems: { [T]: [{ PutRequest: { Item: KEY } }] } },
    ],
    [
      'TransactGetItems',
      new TransactGetCommand({ TransactItems: [{ Get: { TableName: T, Key: KEY } }] }),
      TransactGetItemsCommand,
      { TransactItems: [{ Get: { TableName: T, Key: WIRE_KEY } }] },
      { Responses: [{ Item: WIRE_KEY }] },
      { Responses: [{ Item: KEY }] },
    ],
    [
      'TransactWriteItems',
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: T, Item: KEY, ExpressionAttributeValues: VALUES } },
          { Update: { TableName: T, Key: KEY, UpdateExpression: 'u', ExpressionAttributeValues: VALUES } },
          { ConditionCheck: { TableName: T, Key: KEY, ConditionExpression: 'c' } },
          { Delete: { TableName: T, Key: KEY } },
        ],
      }),
      TransactWriteItemsCommand,
      {
        TransactItems: [
          { Put: { TableName: T, Item: WIRE_KEY, ExpressionAttributeValues: WIRE_VALUES } },
          { Update: { TableName: T, Key: WIRE_KEY, UpdateExpression: 'u', ExpressionAttributeValues: WIRE_VALUES } },
          { ConditionCheck: { TableName: T, Key: WIRE_KEY, ConditionExpression: 'c' } },
          { Delete: { TableName: T, Key: WIRE_KEY } },
        ],
      },
      {},
      {},
    ],
  ])(
    'should send %s with the values converted and convert them back',
    async (_name, command, Sdk, wire, answer, plain) => {
      // Prepare
      dynamo.on(Sdk as never).resolves(answer as never);
      // Act
      const output = await client().send(command);
      // Assess
      const calls = dynamo.commandCalls(Sdk as never);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.args[0].input).toEqual(wire);
      expect(output).toEqual(plain);
    },
  );

  it('should pass a failed condition through unchanged', async () => {
    // Prepare
    const failed = new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
    dynamo.on(UpdateItemCommand).rejects(failed);
    // Act
    const sent = client().send(new UpdateCommand({ TableName: T, Key: KEY, UpdateExpression: 'u' }));
    // Assess
    await expect(sent).rejects.toBe(failed);
  });

  it.each<[string, () => DocumentCommand<unknown, unknown>]>([
    [
      'a number beyond the safe integers',
      () =>
        new UpdateCommand({
          TableName: T,
          Key: KEY,
          UpdateExpression: 'u',
          ExpressionAttributeValues: { ':n': 2 ** 60 },
        }),
    ],
    ['a value with no DynamoDB type', () => new PutCommand({ TableName: T, Item: { pk: 'a', at: new Date(0) } })],
  ])('should fail closed (503) on %s, as the conversion inside the SDK client did', async (_name, command) => {
    // Prepare
    dynamo.on(UpdateItemCommand).resolves({});
    dynamo.on(PutItemCommand).resolves({});
    // Act
    const sent = client().send(command());
    // Assess
    await expect(sent).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('should load the client on the first send only, and fail closed (503) when it cannot', async () => {
    // Prepare
    let loads = 0;
    const failing = new LazyDocumentClient(async () => {
      loads += 1;
      throw new Error('no SDK');
    });
    const before = loads;
    // Act
    const first = failing.send(new GetCommand({ TableName: T, Key: KEY }));
    // Assess
    expect(before).toBe(0);
    await expect(first).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(failing.send(new GetCommand({ TableName: T, Key: KEY }))).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
    expect(loads).toBe(2);
  });
});
