/**
 * `DynamoIdempotencyStore` against Powertools' own `DynamoDBPersistenceLayer` (the layer it
 * replaces): for every record operation both send the same DynamoDB request, and both read the same
 * answers (a stored record, a failed claim's old record) into the same `IdempotencyRecord`.
 */
import { jest } from '@jest/globals';
import { IdempotencyConfig, IdempotencyItemAlreadyExistsError } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoIdempotencyStore } from '../../../../lambdas/lib/stores/idempotency-store.js';
import { LazyDocumentClient } from '../../../../lambdas/lib/stores/document-client.js';

const NOW = 1_800_000_000_123;
const TABLE = 'idempotency';
const PAYLOAD = { scope: 'abc', message: 'hello' };
const RESULT = { messageKey: 'MSG#1', nested: { n: 2, list: [1, 'x'], flag: true } };
const WIRE_RECORD = {
  id: { S: 'chat-turn#hash' },
  expiration: { N: '1800086400' },
  in_progress_expiration: { N: String(NOW + 5000) },
  status: { S: 'COMPLETED' },
  data: { M: { messageKey: { S: 'MSG#1' } } },
  validation: { S: 'payload-hash' },
};

const dynamo = mockClient(DynamoDBClient);

/** A layer configured as `runIdempotentTurn` configures it. */
function configured(layer: BasePersistenceLayer): BasePersistenceLayer {
  layer.configure({
    config: new IdempotencyConfig({
      eventKeyJmesPath: 'scope',
      payloadValidationJmesPath: 'message',
      expiresAfterSeconds: 86_400,
    }),
    keyPrefix: 'chat-turn',
  });
  return layer;
}

const layers: [string, () => BasePersistenceLayer][] = [
  [
    'Powertools',
    () => configured(new DynamoDBPersistenceLayer({ tableName: TABLE, awsSdkV3Client: new DynamoDBClient({}) })),
  ],
  [
    'ours',
    () =>
      configured(
        new DynamoIdempotencyStore({
          tableName: TABLE,
          client: new LazyDocumentClient(async () => new DynamoDBClient({})),
        }),
      ),
  ],
];

/** The inputs of every DynamoDB request `act` makes through `layer`, and what it resolves or rejects to. */
async function requestsOf(layer: BasePersistenceLayer, act: (layer: BasePersistenceLayer) => Promise<unknown>) {
  dynamo.reset();
  dynamo.on(GetItemCommand).resolves({ Item: WIRE_RECORD });
  dynamo.on(PutItemCommand).resolves({});
  dynamo.on(UpdateItemCommand).resolves({});
  dynamo.on(DeleteItemCommand).resolves({});
  const outcome = await act(layer).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  return { sent: dynamo.calls().map((call) => call.args[0].input), outcome };
}

describe('DynamoIdempotencyStore', () => {
  beforeEach(() => jest.useFakeTimers({ now: NOW, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());
  afterAll(() => dynamo.restore());

  it.each<[string, (layer: BasePersistenceLayer) => Promise<unknown>]>([
    ['the in-progress claim', (layer) => layer.saveInProgress(PAYLOAD, 5000)],
    ['the in-progress claim without a deadline', (layer) => layer.saveInProgress(PAYLOAD)],
    ['the completed answer', (layer) => layer.saveSuccess(PAYLOAD, RESULT)],
    ['the read', (layer) => layer.getRecord({ ...PAYLOAD, message: 'other' }).catch((error: unknown) => error)],
    ['the delete', (layer) => layer.deleteRecord(PAYLOAD)],
  ])('should send %s as Powertools does', async (_name, act) => {
    // Prepare
    const [powertools, ours] = layers.map(([, make]) => make());
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    // Act
    const expected = await requestsOf(powertools!, act);
    const actual = await requestsOf(ours!, act);
    // Assess
    expect(actual.sent.length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  });

  it.each(layers)('should read a failed claim’s old record as Powertools does (%s)', async (_name, make) => {
    // Prepare
    const layer = make();
    dynamo.reset();
    dynamo
      .on(PutItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: WIRE_RECORD }));
    // Act
    const error = await layer.saveInProgress(PAYLOAD, 5000).catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(IdempotencyItemAlreadyExistsError);
    expect((error as IdempotencyItemAlreadyExistsError).existingRecord).toEqual(
      expect.objectContaining({
        idempotencyKey: 'chat-turn#hash',
        expiryTimestamp: 1_800_086_400,
        inProgressExpiryTimestamp: NOW + 5000,
        responseData: { messageKey: 'MSG#1' },
        payloadHash: 'payload-hash',
      }),
    );
  });
});
