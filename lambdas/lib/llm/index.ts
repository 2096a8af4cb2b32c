/** Picks the model provider named by `LLM_PROVIDER`, bounded by `MODEL_TIMEOUT_MS`. */
import type { Config } from '../config.js';
import { ConfigurationError } from '../errors.js';
import { BedrockModel } from './bedrock.js';
import { BoundedModel } from './bounded.js';
import { EchoModel } from './echo.js';
import type { ModelProvider } from './model-provider.js';
import { OpenAiCompatibleModel } from './openai.js';

/** What providers need from outside the configuration. */
export interface ModelDependencies {
  /** The OpenAI-compatible API key; required when `LLM_PROVIDER=openai`. */
  readonly openAiApiKey?: () => Promise<string>;
}

/** Creates the configured provider; a provider missing what it needs stops the cold start. */
export function createModel(config: Config, dependencies: ModelDependencies = {}): ModelProvider {
  const { llm } = config;
  return new BoundedModel(unbounded(), llm.timeoutMs);

  function unbounded(): ModelProvider {
    switch (llm.provider) {
      case 'echo':
        return new EchoModel();
      case 'openai': {
        const apiKey = dependencies.openAiApiKey;
        if (!apiKey) {
          throw new ConfigurationError([
            'LLM_PROVIDER=openai needs OPENAI_API_KEY, or SECRETS_PREFIX with an openai-api-key secret',
          ]);
        }
        return new OpenAiCompatibleModel({
          baseUrl: llm.openAiBaseUrl,
          model: llm.openAiModel,
          apiKey,
          connectTimeoutMs: llm.connectTimeoutMs,
        });
      }
      case 'bedrock':
        return new BedrockModel({ modelId: llm.bedrockModelId, connectTimeoutMs: llm.connectTimeoutMs });
    }
  }
}

export {
  ModelError,
  type CompletionRequest,
  type ModelMessage,
  type ModelProvider,
  type ReportedUsage,
} from './model-provider.js';
