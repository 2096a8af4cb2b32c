/**
 * Model spend in the stack (design §12): the budget context reaches every function as the
 * environment of the contract, the two spend alarms exist with their thresholds, the dashboard has
 * a row for tokens and spend, and a context the functions would refuse fails the synth.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ChatWidgetStack } from '../../lib/chat-widget-stack.js';
import { parseContext } from '../../lib/context.js';

const base = { appEnv: 'production', allowedOrigins: 'https://app.example.com' };
const synth = (extra: Record<string, unknown>) =>
  Template.fromStack(
    new ChatWidgetStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Spend', {
      settings: parseContext({ ...base, ...extra }),
    }),
  );

describe('model spend infrastructure', () => {
  let template: Template;
  beforeAll(() => {
    template = synth({
      budgetTokensPerDay: 5_000_000,
      budgetTokensPerIp: 40000,
      spendAlarmTokensPer5Min: 250000,
      modelPriceInputPerMTok: 0.15,
      modelPriceOutputPerMTok: 0.6,
    });
  });

  it('should pass the budgets and prices to the functions', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          BUDGET_TOKENS_PER_DAY: '5000000',
          BUDGET_TOKENS_PER_IP: '40000',
          BUDGET_TOKENS_PER_SESSION: '20000',
          BUDGET_DEPLOYMENT_SHARDS: '32',
          MODEL_MAX_OUTPUT_TOKENS: '1024',
          CONTEXT_MAX_TOKENS: '8000',
          MODEL_PRICE_INPUT_PER_MTOK: '0.15',
          MODEL_PRICE_OUTPUT_PER_MTOK: '0.6',
        }),
      },
    });
  });

  it.each([
    ['tokens per 5 minutes', 250000, 300],
    ['the deployment budget at 80 %', 4_000_000, 86400],
  ])('should alarm on %s', (_, threshold, period) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: threshold,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'inTokens + outTokens' }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'ModelInputTokens' }),
            Period: period,
          }),
        }),
      ]),
    });
  });

  it('should show tokens, USD and budget refusals on the dashboard', () => {
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    for (const text of ['ModelInputTokens', 'ModelOutputTokens', 'BudgetExceeded', 'USD']) expect(body).toContain(text);
  });

  it('should have no budget alarm when the deployment budget is off', () => {
    const alarms = JSON.stringify(synth({ budgetTokensPerDay: 0 }).findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).not.toContain('80 %');
  });

  it.each([
    [{ budgetTokensPerDay: 100_000, budgetDeploymentShards: 32 }, 'BUDGET_DEPLOYMENT_SHARDS'],
    [{ budgetTokensPerIp: -1 }, 'budgetTokensPerIp'],
    [{ spendAlarmTokensPer5Min: 0 }, 'spendAlarmTokensPer5Min'],
  ])('should refuse the context %j at synth', (extra, named) => {
    expect(() => parseContext({ ...base, ...extra })).toThrow(named);
  });
});
