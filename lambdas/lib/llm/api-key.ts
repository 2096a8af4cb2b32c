/** Where the OpenAI-compatible API key comes from: `OPENAI_API_KEY`, else Secrets Manager. */
import type { Config } from '../config.js';
import { ModelError } from './model-provider.js';
import { SecretsManagerValues, type SecretValueProvider } from '../secrets/secrets-manager.js';

/** The name of the optional, operator-managed model key secret, after `SECRETS_PREFIX`. */
export const MODEL_KEY_SECRET = 'openai-api-key';

/**
 * A getter for the key, or undefined when there is nowhere to get it from. The Secrets Manager
 * value is cached for `SECRET_CACHE_TTL_SECONDS`; the SDK is loaded on the first call, not at cold start.
 */
export function openAiApiKeyFor(
  config: Config,
  provider: SecretValueProvider = new SecretsManagerValues(),
): (() => Promise<string>) | undefined {
  const fromEnv = config.secretOverrides.OPENAI_API_KEY.current;
  if (fromEnv !== undefined) return async () => fromEnv;
  if (config.secretsPrefix === undefined) return undefined;
  const name = `${config.secretsPrefix}${MODEL_KEY_SECRET}`;
  return async () => {
    const value = await provider.get(name, { maxAge: config.secretCacheTtlSeconds });
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ModelError('provider', `The ${MODEL_KEY_SECRET} secret has no value.`);
    }
    return value;
  };
}
