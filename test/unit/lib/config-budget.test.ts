import { loadConfig } from '../../../lambdas/lib/config.js';
import { ConfigurationError } from '../../../lambdas/lib/errors.js';

describe('model spend configuration', () => {
  it('should default to the budgets and caps of design §12', () => {
    const config = loadConfig({});
    expect(config.budget).toEqual({
      session: 20000,
      user: 100000,
      ip: 50000,
      deployment: 2000000,
      deploymentShards: 32,
      priceInputPerMTok: undefined,
      priceOutputPerMTok: undefined,
    });
    expect(config.llm).toMatchObject({ maxOutputTokens: 1024, contextMaxTokens: 8000 });
  });

  it('should read prices as decimals and 0 as a budget turned off', () => {
    const config = loadConfig({
      MODEL_PRICE_INPUT_PER_MTOK: '0.15',
      MODEL_PRICE_OUTPUT_PER_MTOK: '10',
      BUDGET_TOKENS_PER_DAY: '0',
    });
    expect(config.budget).toMatchObject({ priceInputPerMTok: 0.15, priceOutputPerMTok: 10, deployment: 0 });
  });

  it.each([
    [{ BUDGET_TOKENS_PER_SESSION: '-1' }, 'BUDGET_TOKENS_PER_SESSION'],
    [{ BUDGET_TOKENS_PER_IP: 'lots' }, 'BUDGET_TOKENS_PER_IP'],
    [{ MODEL_MAX_OUTPUT_TOKENS: '0' }, 'MODEL_MAX_OUTPUT_TOKENS'],
    [{ CONTEXT_MAX_TOKENS: '1.5' }, 'CONTEXT_MAX_TOKENS'],
    [{ BUDGET_DEPLOYMENT_SHARDS: '101' }, 'BUDGET_DEPLOYMENT_SHARDS'],
    [{ MODEL_PRICE_INPUT_PER_MTOK: '1e-3' }, 'MODEL_PRICE_INPUT_PER_MTOK'],
    [{ MODEL_PRICE_OUTPUT_PER_MTOK: '-2' }, 'MODEL_PRICE_OUTPUT_PER_MTOK'],
    [{ BUDGET_TOKENS_PER_DAY: '100000' }, 'BUDGET_DEPLOYMENT_SHARDS must leave each shard at least one turn'],
  ])('should refuse %j, naming the variable', (env, named) => {
    expect(() => loadConfig(env)).toThrow(ConfigurationError);
    expect(() => loadConfig(env)).toThrow(named);
  });
});
