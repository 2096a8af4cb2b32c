/**
 * Alarms and a dashboard: spikes of failed authentication, rate limiting and guardrail blocks (from
 * the EMF metrics every audit event emits), API 5xx, WAF blocks, rotation failures, and model
 * spend (tokens per 5 minutes, the deployment budget at 80 %), all to one encrypted SNS topic
 * (with an optional e-mail subscription).
 */
import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { BUDGET_SCOPES } from '../../lambdas/lib/errors.js';

/** Props of `Monitoring`. */
export interface MonitoringProps {
  readonly api: RestApi;
  /** The web ACL's metric name (its visibility config). */
  readonly webAclMetricName: string;
  readonly rotationFunction: IFunction;
  /**
   * Where alarms are e-mailed.
   * @default no subscription (subscribe to the topic yourself)
   */
  readonly alarmEmail?: string;
  /**
   * Model spend (design §12): the alarm thresholds and the prices for the dashboard's USD line.
   * @default no spend alarms
   */
  readonly spend?: SpendMonitoring;
}

/** What the spend alarms and dashboard row need. */
export interface SpendMonitoring {
  /** Alarm when input + output tokens in 5 minutes reach this. */
  readonly tokensPer5Min: number;
  /** The deployment's daily budget (`BUDGET_TOKENS_PER_DAY`); alarm at 80 % of it. 0: no such alarm. */
  readonly deploymentBudget: number;
  /** USD per million tokens, both or neither. @default no USD line */
  readonly priceInputPerMTok?: number;
  readonly priceOutputPerMTok?: number;
}

const FIVE_MINUTES = Duration.minutes(5);

/** Security events as the audit log emits them (EMF, namespace ChatWidget). */
const auditMetric = (event: string): Metric =>
  new Metric({
    namespace: 'ChatWidget',
    metricName: event,
    dimensionsMap: { service: 'chat-widget' },
    statistic: 'Sum',
    period: FIVE_MINUTES,
  });

/** The model token metrics (EMF, namespace ChatWidget), summed over `period`. */
const tokenMetric = (name: 'ModelInputTokens' | 'ModelOutputTokens', period: Duration): Metric =>
  new Metric({
    namespace: 'ChatWidget',
    metricName: name,
    dimensionsMap: { service: 'chat-widget' },
    statistic: 'Sum',
    period,
  });

/** Input + output tokens over `period`. */
const totalTokens = (period: Duration, label: string): MathExpression =>
  new MathExpression({
    expression: 'inTokens + outTokens',
    usingMetrics: {
      inTokens: tokenMetric('ModelInputTokens', period),
      outTokens: tokenMetric('ModelOutputTokens', period),
    },
    period,
    label,
  });

/** Answers and messages the guardrails blocked (EMF `GuardrailBlocked`, design §13): the total. */
const guardrailBlocked = new Metric({
  namespace: 'ChatWidget',
  metricName: 'GuardrailBlocked',
  dimensionsMap: { service: 'chat-widget' },
  statistic: 'Sum',
  period: FIVE_MINUTES,
});

/** The blocked count by direction and category, one line each. */
const guardrailBlockedByCategory = new MathExpression({
  expression:
    'SEARCH(\'{ChatWidget,category,direction,service} MetricName="GuardrailBlocked" service="chat-widget"\', \'Sum\', 300)',
  label: 'Blocked by direction and category',
  period: FIVE_MINUTES,
});

/** The alarm topic, the alarms and the dashboard. */
export class Monitoring extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Alarms', {
      masterKey: new Key(this, 'TopicKey', {
        enableKeyRotation: true,
        description: 'Encrypts chat widget alarm notifications',
      }),
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    const wafBlocks = new Metric({
      namespace: 'AWS/WAFV2',
      metricName: 'BlockedRequests',
      dimensionsMap: { WebACL: props.webAclMetricName, Rule: 'ALL', Region: props.api.stack.region },
      statistic: 'Sum',
      period: FIVE_MINUTES,
    });
    const alarms: [string, IMetric, number, string][] = [
      ['AuthFailureSpike', auditMetric('auth.failure'), 100, 'More than 100 failed authentications in 5 minutes'],
      ['TokenInvalidSpike', auditMetric('token.invalid'), 100, 'More than 100 invalid widget tokens in 5 minutes'],
      ['RateLimitSpike', auditMetric('rate_limit.exceeded'), 50, 'More than 50 rate-limit refusals in 5 minutes'],
      [
        'GuardrailBlockedSpike',
        guardrailBlocked,
        50,
        'More than 50 messages or answers blocked by the guardrails in 5 minutes (attacks or a misbehaving model)',
      ],
      ['SecretRefreshFailed', auditMetric('secret.refresh_failed'), 1, 'A function could not refresh its secrets'],
      ['Api5xx', props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }), 5, 'API 5xx responses'],
      ['WafBlocks', wafBlocks, 1000, 'More than 1000 requests blocked by WAF in 5 minutes'],
      [
        'RotationFailed',
        props.rotationFunction.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        1,
        'A secret rotation step failed',
      ],
    ];
    const spend = props.spend;
    if (spend) {
      alarms.push([
        'SpendSpike',
        totalTokens(FIVE_MINUTES, 'Model tokens per 5 minutes'),
        spend.tokensPer5Min,
        `Model tokens (input + output) reached ${spend.tokensPer5Min} in 5 minutes`,
      ]);
      if (spend.deploymentBudget > 0) {
        // A one-day period is aligned to UTC midnight, as the budget's day is.
        alarms.push([
          'DeploymentBudget80',
          totalTokens(Duration.days(1), 'Model tokens today (UTC)'),
          Math.floor(spend.deploymentBudget * 0.8),
          'Model tokens today reached 80 % of the deployment budget (BUDGET_TOKENS_PER_DAY)',
        ]);
      }
    }
    const action = new SnsAction(this.topic);
    for (const [name, metric, threshold, description] of alarms) {
      new Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }).addAlarmAction(action);
    }

    new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({
            title: 'Requests and errors',
            left: [
              props.api.metricCount({ period: FIVE_MINUTES }),
              props.api.metricClientError({ period: FIVE_MINUTES }),
              props.api.metricServerError({ period: FIVE_MINUTES }),
            ],
          }),
          new GraphWidget({
            title: 'Latency (p99)',
            left: [props.api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' })],
          }),
        ],
        [
          new GraphWidget({
            title: 'Security events',
            left: ['auth.failure', 'token.invalid', 'token.revoked', 'origin.rejected', 'rate_limit.exceeded'].map(
              auditMetric,
            ),
          }),
          new GraphWidget({ title: 'WAF blocked requests', left: [wafBlocks] }),
        ],
        [
          new GraphWidget({ title: 'Guardrail blocks', left: [guardrailBlocked] }),
          new GraphWidget({
            title: 'Guardrail blocks by direction and category',
            left: [guardrailBlockedByCategory],
          }),
          new GraphWidget({
            title: 'Prompt attacks and leaks',
            left: ['guardrail.prompt_attack', 'guardrail.prompt_leak'].map(auditMetric),
          }),
        ],
        [
          new GraphWidget({
            title: 'Secrets and admin',
            left: [
              'secret.rotated',
              'secret.refresh_failed',
              'secret.weak',
              'admin.access',
              'conversation.deleted',
            ].map(auditMetric),
          }),
        ],
        [
          new GraphWidget({
            title: 'Model tokens (per 5 minutes)',
            left: [tokenMetric('ModelInputTokens', FIVE_MINUTES), tokenMetric('ModelOutputTokens', FIVE_MINUTES)],
            right: priced(spend),
          }),
          new GraphWidget({
            title: 'Budget refusals by scope',
            left: BUDGET_SCOPES.map(
              (scope) =>
                new Metric({
                  namespace: 'ChatWidget',
                  metricName: 'BudgetExceeded',
                  dimensionsMap: { service: 'chat-widget', scope },
                  statistic: 'Sum',
                  period: FIVE_MINUTES,
                  label: scope,
                }),
            ),
          }),
        ],
      ],
    });
  }
}

/** The spend in USD per 5 minutes, when both prices are known. */
function priced(spend: SpendMonitoring | undefined): IMetric[] {
  if (spend?.priceInputPerMTok === undefined || spend.priceOutputPerMTok === undefined) return [];
  return [
    new MathExpression({
      expression: `(inTokens * ${spend.priceInputPerMTok} + outTokens * ${spend.priceOutputPerMTok}) / 1000000`,
      usingMetrics: {
        inTokens: tokenMetric('ModelInputTokens', FIVE_MINUTES),
        outTokens: tokenMetric('ModelOutputTokens', FIVE_MINUTES),
      },
      period: FIVE_MINUTES,
      label: 'USD',
    }),
  ];
}
