/**
 * AWS SDK clients, built once per process with short timeouts so a dependency that is down
 * fails fast, and with one middleware that turns every DynamoDB failure other than a failed
 * condition into a 503 (fail closed). The SDK is imported when a client is first needed, not at
 * cold start (see `LazyDocumentClient`).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ServiceUnavailableError } from './errors.js';
import { loadHttpHandler } from './http-handler.js';

/** Options for the DynamoDB client; tests and the local server pass an endpoint. */
export interface DynamoDbClientOptions {
  /** @default the regional endpoint */
  readonly endpoint?: string;
  /** @default AWS_REGION, else us-east-1 */
  readonly region?: string;
  /** @default the SDK's credential chain */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Errors that carry a meaning for the caller and pass through unchanged. */
const PASS_THROUGH = new Set([
  'ConditionalCheckFailedException',
  // A transaction whose condition failed; and an engine without transactions (dynalite).
  'TransactionCanceledException',
  'UnknownOperationException',
]);

/** Loads the SDK and creates the DynamoDB client every store and the idempotency layer share. */
export async function loadDynamoDbClient(options: DynamoDbClientOptions = {}): Promise<DynamoDBClient> {
  const [{ DynamoDBClient }, requestHandler] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    // throwOnRequestTimeout: without it a request that gets no answer only logs a warning and hangs.
    loadHttpHandler({ connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true }),
  ]);
  const client = new DynamoDBClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: 3,
    requestHandler,
    // Each command's resolved middleware stack is built once, not on every send (bench/call-cost.ts).
    // Middleware must therefore be added before the first send, as below.
    cacheMiddleware: true,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (error instanceof Error && PASS_THROUGH.has(error.name)) throw error;
        throw new ServiceUnavailableError({ cause: error });
      }
    },
    { step: 'initialize', name: 'failClosed' },
  );
  return client;
}
