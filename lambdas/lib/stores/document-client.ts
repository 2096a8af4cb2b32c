/**
 * The document client the stores send through: lib-dynamodb's commands and types (plain values in,
 * plain values out), with two differences measured by bench/bundles.ts and bench/call-cost.ts.
 * (1) The AWS SDK is loaded on the first send: a cold start that never calls DynamoDB (health, the
 * route fallback, a refused request) does not pay for loading `@aws-sdk/client-dynamodb` (about
 * 100 ms of module evaluation). (2) Values are converted here, with `@aws-sdk/util-dynamodb` (the
 * converter lib-dynamodb uses, same options), and sent as the low-level command, so the client can
 * cache its resolved middleware stack per command (`cacheMiddleware`, which lib-dynamodb's
 * per-command marshalling middleware rules out): about a quarter of the SDK's CPU per call.
 */
import type * as DynamoDbSdk from '@aws-sdk/client-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type * as Converter from '@aws-sdk/util-dynamodb';
import type * as Doc from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailableError } from '../errors.js';

/** The lib-dynamodb commands the stores use. */
type CommandName =
  | 'BatchGetCommand'
  | 'BatchWriteCommand'
  | 'DeleteCommand'
  | 'GetCommand'
  | 'PutCommand'
  | 'QueryCommand'
  | 'TransactGetCommand'
  | 'TransactWriteCommand'
  | 'UpdateCommand';

/** A lib-dynamodb command not built yet: its name, its input, and (as a type only) its output. */
export class DocumentCommand<I, O> {
  /** Never set: it carries the output type to `DocumentClient.send`. */
  declare readonly output?: O;
  constructor(
    readonly commandName: CommandName,
    readonly input: I,
  ) {}
}

/** The class of the lib-dynamodb command `name`, with its input and output types, built on send. */
const documentCommand = <I, O>(name: CommandName) =>
  class extends DocumentCommand<I, O> {
    constructor(input: I) {
      super(name, input);
    }
  };

/* One class per command, named as in lib-dynamodb, so a store reads as it would with the SDK's own. */
export const GetCommand = documentCommand<Doc.GetCommandInput, Doc.GetCommandOutput>('GetCommand');
export const PutCommand = documentCommand<Doc.PutCommandInput, Doc.PutCommandOutput>('PutCommand');
export const UpdateCommand = documentCommand<Doc.UpdateCommandInput, Doc.UpdateCommandOutput>('UpdateCommand');
export const DeleteCommand = documentCommand<Doc.DeleteCommandInput, Doc.DeleteCommandOutput>('DeleteCommand');
export const QueryCommand = documentCommand<Doc.QueryCommandInput, Doc.QueryCommandOutput>('QueryCommand');
export const BatchGetCommand = documentCommand<Doc.BatchGetCommandInput, Doc.BatchGetCommandOutput>('BatchGetCommand');
export const BatchWriteCommand = documentCommand<Doc.BatchWriteCommandInput, Doc.BatchWriteCommandOutput>(
  'BatchWriteCommand',
);
export const TransactGetCommand = documentCommand<Doc.TransactGetCommandInput, Doc.TransactGetCommandOutput>(
  'TransactGetCommand',
);
export const TransactWriteCommand = documentCommand<Doc.TransactWriteCommandInput, Doc.TransactWriteCommandOutput>(
  'TransactWriteCommand',
);

/** Whether `error` is DynamoDB refusing a write whose condition failed (the SDK passes it through unchanged). */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

/** What the stores send through. */
export interface DocumentClient {
  /** Sends `command`; resolves to the SDK's output, rejects as the SDK client does. */
  send<I, O>(command: DocumentCommand<I, O>): Promise<O>;
}

/**
 * Where the plain values are in a command's input or output: `'item'` is an attribute map (each
 * value converted), `'*'` every entry of a list or map, any other key that field. The fields are
 * lib-dynamodb's for the same command.
 */
type Shape = 'item' | { readonly [field: string]: Shape };

const ITEM = 'item';
const WRITE_REQUESTS: Shape = { '*': { '*': { PutRequest: { Item: ITEM }, DeleteRequest: { Key: ITEM } } } };
const KEYS: Shape = { '*': { Keys: { '*': ITEM } } };
const CONDITIONAL = { Key: ITEM, ExpressionAttributeValues: ITEM } as const;

/** Per command: the low-level command, and where the plain values are in its input and output. */
const COMMANDS: Record<
  CommandName,
  { readonly sdk: keyof typeof DynamoDbSdk; readonly input: Shape; readonly output: Shape }
> = {
  GetCommand: { sdk: 'GetItemCommand', input: { Key: ITEM }, output: { Item: ITEM } },
  PutCommand: {
    sdk: 'PutItemCommand',
    input: { Item: ITEM, ExpressionAttributeValues: ITEM },
    output: { Attributes: ITEM },
  },
  UpdateCommand: { sdk: 'UpdateItemCommand', input: CONDITIONAL, output: { Attributes: ITEM } },
  DeleteCommand: { sdk: 'DeleteItemCommand', input: CONDITIONAL, output: { Attributes: ITEM } },
  QueryCommand: {
    sdk: 'QueryCommand',
    input: { ExclusiveStartKey: ITEM, ExpressionAttributeValues: ITEM },
    output: { Items: { '*': ITEM }, LastEvaluatedKey: ITEM },
  },
  BatchGetCommand: {
    sdk: 'BatchGetItemCommand',
    input: { RequestItems: KEYS },
    output: { Responses: { '*': { '*': ITEM } }, UnprocessedKeys: KEYS },
  },
  BatchWriteCommand: {
    sdk: 'BatchWriteItemCommand',
    input: { RequestItems: WRITE_REQUESTS },
    output: { UnprocessedItems: WRITE_REQUESTS },
  },
  TransactGetCommand: {
    sdk: 'TransactGetItemsCommand',
    input: { TransactItems: { '*': { Get: { Key: ITEM } } } },
    output: { Responses: { '*': { Item: ITEM } } },
  },
  TransactWriteCommand: {
    sdk: 'TransactWriteItemsCommand',
    input: {
      TransactItems: {
        '*': {
          ConditionCheck: CONDITIONAL,
          Put: { Item: ITEM, ExpressionAttributeValues: ITEM },
          Delete: CONDITIONAL,
          Update: CONDITIONAL,
        },
      },
    },
    output: {},
  },
};

/** `value` with `convert` applied where `shape` says; everything else copied as is. */
function converted(value: unknown, shape: Shape, convert: (item: Record<string, unknown>) => unknown): unknown {
  if (value === undefined || value === null || typeof value !== 'object') return value;
  if (shape === ITEM) return convert(value as Record<string, unknown>);
  const every = shape['*'];
  if (every !== undefined) {
    if (Array.isArray(value)) return value.map((entry) => converted(entry, every, convert));
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, converted(entry, every, convert)]));
  }
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [field, inner] of Object.entries(shape)) {
    if (out[field] !== undefined) out[field] = converted(out[field], inner, convert);
  }
  return out;
}

/**
 * `convert()`, with a value the converter refuses (a stored number beyond 2^53, a value with no
 * DynamoDB type) failing closed (503), as it did when lib-dynamodb converted inside the client's
 * middleware, under the fail-closed middleware.
 */
function failingClosed<T>(convert: () => T): T {
  try {
    return convert();
  } catch (error) {
    throw new ServiceUnavailableError({ cause: error });
  }
}

interface Loaded {
  readonly sdk: typeof DynamoDbSdk;
  readonly converter: typeof Converter;
  readonly client: DynamoDBClient;
}

/** lib-dynamodb's options on our document client: attributes set to `undefined` are left out. */
const MARSHALL_OPTIONS = { removeUndefinedValues: true } as const;

/**
 * A `DocumentClient` over the DynamoDB client `load` resolves to, loaded (with the SDK) on the first
 * send and kept. A load that fails is retried on the next send, and fails the request closed (503),
 * as any DynamoDB failure does. Errors pass through as the SDK raises them (a failed condition's
 * `Item` stays in the wire format, as with lib-dynamodb).
 */
export class LazyDocumentClient implements DocumentClient {
  readonly #load: () => Promise<DynamoDBClient>;
  #loading: Promise<Loaded> | undefined;
  #loaded: Loaded | undefined;

  constructor(load: () => Promise<DynamoDBClient>) {
    this.#load = load;
  }

  async send<I, O>(command: DocumentCommand<I, O>): Promise<O> {
    const { sdk, converter, client } = this.#loaded ?? (await this.#loadOnce());
    const spec = COMMANDS[command.commandName];
    const Command = sdk[spec.sdk] as unknown as new (input: unknown) => Parameters<DynamoDBClient['send']>[0];
    const input = failingClosed(() =>
      converted(command.input, spec.input, (item) => converter.marshall(item, MARSHALL_OPTIONS)),
    );
    const output = await client.send(new Command(input));
    return failingClosed(() => converted(output, spec.output, (item) => converter.unmarshall(item as never))) as O;
  }

  async #loadOnce(): Promise<Loaded> {
    this.#loading ??= Promise.all([
      import('@aws-sdk/client-dynamodb'),
      import('@aws-sdk/util-dynamodb'),
      this.#load(),
    ]).then(([sdk, converter, client]) => ({ sdk, converter, client }));
    try {
      this.#loaded = await this.#loading;
      return this.#loaded;
    } catch (error) {
      this.#loading = undefined;
      throw new ServiceUnavailableError({ cause: error });
    }
  }
}

export type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  TransactGetCommandInput,
  TransactGetCommandOutput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
