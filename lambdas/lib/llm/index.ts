/** Picks the model provider named by `LLM_PROVIDER`. */
import type { Config } from '../config.js';
import { ConfigurationError } from '../errors.js';
import { EchoModel } from './echo.js';
import type { ModelProvider } from './model-provider.js';

/** Creates the configured provider; providers this build does not ship stop the cold start. */
export function createModel(config: Config): ModelProvider {
  if (config.llm.provider === 'echo') return new EchoModel();
  throw new ConfigurationError([`LLM_PROVIDER=${config.llm.provider} is not available in this build; use echo`]);
}

export type { ModelProvider } from './model-provider.js';
