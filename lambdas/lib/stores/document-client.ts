/**
 * The document client the stores send through, with the AWS SDK loaded on first use: a cold start
 * that never calls DynamoDB (health, the route fallback, a refused request) does not pay for loading
 * `@aws-sdk/lib-dynamodb` and `@aws-sdk/client-dynamodb` (about 100 ms of module evaluation). The
 * command classes here carry a lib-dynamodb command's name and input; `LazyDocumentClient.send`
 * builds the SDK's own command from them once the SDK is loaded.
 */
import type * as LibDynamoDb from '@aws-sdk/lib-dynamodb';
import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  DynamoDBDocumentClient,
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
export abstract class DocumentCommand<I, O> {
  /** Never set: it carries the output type to `DocumentClient.send`. */
  declare readonly output?: O;
  abstract readonly commandName: CommandName;
  constructor(readonly input: I) {}
}

/* One class per command, named as in lib-dynamodb, so a store reads as it would with the SDK's own. */
/** lib-dynamodb `GetCommand`, built on send. */
export class GetCommand extends DocumentCommand<GetCommandInput, GetCommandOutput> {
  readonly commandName = 'GetCommand';
}
/** lib-dynamodb `PutCommand`, built on send. */
export class PutCommand extends DocumentCommand<PutCommandInput, PutCommandOutput> {
  readonly commandName = 'PutCommand';
}
/** lib-dynamodb `UpdateCommand`, built on send. */
export class UpdateCommand extends DocumentCommand<UpdateCommandInput, UpdateCommandOutput> {
  readonly commandName = 'UpdateCommand';
}
/** lib-dynamodb `DeleteCommand`, built on send. */
export class DeleteCommand extends DocumentCommand<DeleteCommandInput, DeleteCommandOutput> {
  readonly commandName = 'DeleteCommand';
}
/** lib-dynamodb `QueryCommand`, built on send. */
export class QueryCommand extends DocumentCommand<QueryCommandInput, QueryCommandOutput> {
  readonly commandName = 'QueryCommand';
}
/** lib-dynamodb `BatchGetCommand`, built on send. */
export class BatchGetCommand extends DocumentCommand<BatchGetCommandInput, BatchGetCommandOutput> {
  readonly commandName = 'BatchGetCommand';
}
/** lib-dynamodb `BatchWriteCommand`, built on send. */
export class BatchWriteCommand extends DocumentCommand<BatchWriteCommandInput, BatchWriteCommandOutput> {
  readonly commandName = 'BatchWriteCommand';
}
/** lib-dynamodb `TransactGetCommand`, built on send. */
export class TransactGetCommand extends DocumentCommand<TransactGetCommandInput, TransactGetCommandOutput> {
  readonly commandName = 'TransactGetCommand';
}
/** lib-dynamodb `TransactWriteCommand`, built on send. */
export class TransactWriteCommand extends DocumentCommand<TransactWriteCommandInput, TransactWriteCommandOutput> {
  readonly commandName = 'TransactWriteCommand';
}

/** What the stores send through. */
export interface DocumentClient {
  /** Sends `command`; resolves to the SDK's output, rejects as the SDK client does. */
  send<I, O>(command: DocumentCommand<I, O>): Promise<O>;
}

interface Loaded {
  readonly lib: typeof LibDynamoDb;
  readonly client: DynamoDBDocumentClient;
}

/**
 * A `DocumentClient` over the document client `load` resolves to, loaded (with lib-dynamodb) on
 * the first send and kept. A load that fails is retried on the next send, and fails the request
 * closed (503), as any DynamoDB failure does.
 */
export class LazyDocumentClient implements DocumentClient {
  readonly #load: () => Promise<DynamoDBDocumentClient>;
  #loading: Promise<Loaded> | undefined;
  #loaded: Loaded | undefined;

  constructor(load: () => Promise<DynamoDBDocumentClient>) {
    this.#load = load;
  }

  async send<I, O>(command: DocumentCommand<I, O>): Promise<O> {
    const { lib, client } = this.#loaded ?? (await this.#loadOnce());
    const Command = lib[command.commandName] as unknown as new (input: I) => Parameters<typeof client.send>[0];
    return (await client.send(new Command(command.input))) as O;
  }

  async #loadOnce(): Promise<Loaded> {
    this.#loading ??= Promise.all([import('@aws-sdk/lib-dynamodb'), this.#load()]).then(([lib, client]) => ({
      lib,
      client,
    }));
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
