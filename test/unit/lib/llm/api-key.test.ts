import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../../../../lambdas/lib/config.js';
import { ConfigurationError } from '../../../../lambdas/lib/errors.js';
import { openAiApiKeyFor } from '../../../../lambdas/lib/llm/api-key.js';
import { createModel } from '../../../../lambdas/lib/llm/index.js';
import { ModelError } from '../../../../lambdas/lib/llm/model-provider.js';

describe('openAiApiKeyFor', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  const provider = () => new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({ region: 'us-east-1' }) });
  beforeEach(() => secretsManager.reset());

  it('It should prefer OPENAI_API_KEY and never call Secrets Manager', async () => {
    const getKey = openAiApiKeyFor(loadConfig({ OPENAI_API_KEY: 'sk-env', SECRETS_PREFIX: 'stack/' }), provider());
    await expect(getKey?.()).resolves.toBe('sk-env');
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('It should have nowhere to get a key without OPENAI_API_KEY or SECRETS_PREFIX', () => {
    expect(openAiApiKeyFor(loadConfig({}), provider())).toBeUndefined();
  });

  it('It should read <prefix>openai-api-key once and serve it from cache while fresh', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: 'stack/openai-api-key' }).resolves({ SecretString: 'sk-sm' });
    const getKey = openAiApiKeyFor(loadConfig({ SECRETS_PREFIX: 'stack/' }), provider());
    await expect(getKey?.()).resolves.toBe('sk-sm');
    await expect(getKey?.()).resolves.toBe('sk-sm');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('It should fail the model call, not the process, when the secret is empty', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: ' ' });
    const getKey = openAiApiKeyFor(loadConfig({ SECRETS_PREFIX: 'stack/' }), provider());
    await expect(getKey?.()).rejects.toBeInstanceOf(ModelError);
  });
});

describe('createModel', () => {
  it('It should refuse LLM_PROVIDER=openai with no key source at cold start', () => {
    expect(() => createModel(loadConfig({ LLM_PROVIDER: 'openai' }))).toThrow(ConfigurationError);
  });

  it.each([['echo'], ['bedrock']])('It should build the %s provider without a key', (provider) => {
    expect(() => createModel(loadConfig({ LLM_PROVIDER: provider, AWS_REGION: 'us-east-1' }))).not.toThrow();
  });
});
