/**
 * The Bedrock Runtime SDK, loaded on first use, so that functions which never call Bedrock (the
 * model or the guardrail) do not pay for loading it at cold start. Shared by both callers.
 */
import type * as BedrockSdk from '@aws-sdk/client-bedrock-runtime';
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { loadHttpHandler } from '../http-handler.js';

/** The loaded SDK module and the client to call it with. */
export interface BedrockRuntime {
  readonly sdk: typeof BedrockSdk;
  readonly client: BedrockRuntimeClient;
}

/**
 * A loader that imports the SDK once and builds one client (two attempts, `connectTimeoutMs`
 * connect timeout), unless `client` is given (tests pass a mock).
 */
export function lazyBedrockRuntime(options: {
  readonly connectTimeoutMs: number;
  readonly client?: BedrockRuntimeClient;
}): () => Promise<BedrockRuntime> {
  let loaded: Promise<BedrockRuntime> | undefined;
  return () =>
    (loaded ??= Promise.all([
      import('@aws-sdk/client-bedrock-runtime'),
      options.client === undefined ? loadHttpHandler({ connectionTimeout: options.connectTimeoutMs }) : undefined,
    ])
      .then(([sdk, requestHandler]) => ({
        sdk,
        client: options.client ?? new sdk.BedrockRuntimeClient({ maxAttempts: 2, requestHandler }),
      }))
      // A failed load is not kept: the next call loads again.
      .catch((error: unknown) => {
        loaded = undefined;
        throw error;
      }));
}
