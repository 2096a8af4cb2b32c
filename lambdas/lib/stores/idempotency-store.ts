/**
 * The Powertools idempotency persistence layer on DynamoDB, over the stores' lazily loaded
 * document client. Powertools' own `DynamoDBPersistenceLayer` imports `@aws-sdk/client-dynamodb`
 * at module load, and esbuild hoists an external package's imports to the top of an ESM bundle
 * even when the module that needs it is imported lazily: every function would pay for loading the
 * SDK at cold start. So this layer keeps Powertools' logic (key hashing, payload validation,
 * expiry, local cache: `BasePersistenceLayer`) and does the record I/O as
 * `DynamoDBPersistenceLayer` 2.x does it: same attributes, same condition on the in-progress
 * claim, same errors.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyRecordStatus,
  PERSISTENCE_ATTRIBUTE_KEY_MAPPINGS,
} from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DocumentClient,
  isConditionFailure,
} from './document-client.js';

const ID = 'id';
const { statusAttr, expiryAttr, inProgressExpiryAttr, dataAttr, validationKeyAttr } =
  PERSISTENCE_ATTRIBUTE_KEY_MAPPINGS;

/**
 * A record may be claimed when its key is new, when it has expired (seconds), or when it is in
 * progress and its holder's deadline has passed (milliseconds): Powertools' condition.
 */
const CLAIMABLE =
  'attribute_not_exists(#id) OR #expiry < :now OR ' +
  '(#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)';

type Item = Record<string, unknown>;

const recordOf = (item: Item) =>
  new IdempotencyRecord({
    idempotencyKey: item[ID] as string,
    status: item[statusAttr] as (typeof IdempotencyRecordStatus)[keyof typeof IdempotencyRecordStatus],
    expiryTimestamp: item[expiryAttr] as number | undefined,
    inProgressExpiryTimestamp: item[inProgressExpiryAttr] as number | undefined,
    responseData: item[dataAttr] as IdempotencyRecord['responseData'],
    payloadHash: item[validationKeyAttr] as string | undefined,
  });

export interface DynamoIdempotencyStoreOptions {
  readonly client: DocumentClient;
  readonly tableName: string;
}

/** Idempotency records in `tableName` (partition key `id`), for Powertools' `makeIdempotent`. */
export class DynamoIdempotencyStore extends BasePersistenceLayer {
  readonly #client: DocumentClient;
  readonly #table: string;

  constructor(options: DynamoIdempotencyStoreOptions) {
    super();
    this.#client = options.client;
    this.#table = options.tableName;
  }

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: { [ID]: idempotencyKey }, ConsistentRead: true }),
    );
    if (!Item) throw new IdempotencyItemNotFoundError();
    return recordOf(Item);
  }

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const item: Item = { [ID]: record.idempotencyKey, [expiryAttr]: record.expiryTimestamp };
    item[statusAttr] = record.getStatus();
    if (record.inProgressExpiryTimestamp !== undefined) item[inProgressExpiryAttr] = record.inProgressExpiryTimestamp;
    if (this.isPayloadValidationEnabled() && record.payloadHash !== undefined) {
      item[validationKeyAttr] = record.payloadHash;
    }
    const now = Date.now();
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: CLAIMABLE,
          ExpressionAttributeNames: {
            '#id': ID,
            '#expiry': expiryAttr,
            '#in_progress_expiry': inProgressExpiryAttr,
            '#status': statusAttr,
          },
          ExpressionAttributeValues: {
            ':now': now / 1000,
            ':now_in_millis': now,
            ':inprogress': IdempotencyRecordStatus.INPROGRESS,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The old item comes back in the wire format: the document client does not convert errors.
      const old = (error as { Item?: Record<string, AttributeValue> }).Item;
      const { unmarshall } = await import('@aws-sdk/util-dynamodb');
      throw new IdempotencyItemAlreadyExistsError(
        `Failed to put record for already existing idempotency key: ${record.idempotencyKey}`,
        old && recordOf(unmarshall(old)),
      );
    }
  }

  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    const set = ['#expiry = :expiry', '#status = :status'];
    const names: Record<string, string> = { '#expiry': expiryAttr, '#status': statusAttr };
    const values: Item = { ':expiry': record.expiryTimestamp, ':status': record.getStatus() };
    if (record.responseData !== undefined) {
      set.push('#response_data = :response_data');
      names['#response_data'] = dataAttr;
      values[':response_data'] = record.responseData;
    }
    if (this.isPayloadValidationEnabled()) {
      set.push('#validation_key = :validation_key');
      names['#validation_key'] = validationKeyAttr;
      values[':validation_key'] = record.payloadHash;
    }
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { [ID]: record.idempotencyKey },
        UpdateExpression: `SET ${set.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    await this.#client.send(new DeleteCommand({ TableName: this.#table, Key: { [ID]: record.idempotencyKey } }));
  }
}
