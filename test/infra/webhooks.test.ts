/**
 * The webhook infrastructure: an encrypted, TLS-only queue with a dead-letter queue, the delivery
 * function fed by it (partial batch failures, bounded concurrency), send rights for the API
 * functions only on that queue, and an alarm on dropped events. None of it without `webhookUrl`.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ChatWidgetStack } from '../../lib/chat-widget-stack.js';
import { parseContext } from '../../lib/context.js';

const base = { appEnv: 'production', allowedOrigins: 'https://app.example.com' };
const synth = (extra: Record<string, unknown>) =>
  Template.fromStack(
    new ChatWidgetStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Hooks', {
      settings: parseContext({ ...base, ...extra }),
    }),
  );

describe('webhook infrastructure', () => {
  let template: Template;
  beforeAll(() => {
    template = synth({ webhookUrl: 'https://hooks.example.com/in' });
  });

  const logicalId = (type: string, prefix: string): string => {
    const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
    if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.length}`);
    return ids[0]!;
  };
  const policiesOf = (prefix: string): string =>
    JSON.stringify(
      Object.entries(template.findResources('AWS::IAM::Policy'))
        .filter(([id]) => id.startsWith(prefix))
        .map(([, p]) => p),
    );

  it('It should encrypt both queues with a rotated customer-managed key and keep dead letters 14 days', () => {
    const key = logicalId('AWS::KMS::Key', 'WebhooksKey');
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.allResourcesProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86400 });
  });

  it('It should send events out of attempts to the dead-letter queue after 8 receives', () => {
    const dlq = logicalId('AWS::SQS::Queue', 'WebhooksDeadLetters');
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 8 },
      VisibilityTimeout: 60,
    });
  });

  it('It should refuse every non-TLS request to both queues', () => {
    const policies = template.findResources('AWS::SQS::QueuePolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
      expect(JSON.stringify(policy)).toContain('"Effect":"Deny"');
    }
  });

  it('It should feed the delivery function from the queue with partial batch failures and at most 2 at once', () => {
    const fn = logicalId('AWS::Lambda::Function', 'WebhooksDeliveryFunction');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fn },
      EventSourceArn: { 'Fn::GetAtt': [logicalId('AWS::SQS::Queue', 'WebhooksEvents'), 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 30,
      Environment: {
        Variables: Match.objectLike({
          WEBHOOK_URL: 'https://hooks.example.com/in',
          WEBHOOK_QUEUE_URL: { Ref: logicalId('AWS::SQS::Queue', 'WebhooksEvents') },
          WEBHOOK_MAX_ATTEMPTS: '8',
        }),
      },
    });
  });

  it('It should let the delivery function consume the queue and change visibility, and send nothing', () => {
    const statements = policiesOf('WebhooksDelivery');
    expect(statements).toContain('sqs:ChangeMessageVisibility');
    expect(statements).toContain('sqs:DeleteMessage');
    expect(statements).not.toContain('sqs:SendMessage');
  });

  it.each(['Fnpostchat', 'Fnpostchatstream', 'Fnadmindeleteconversation', 'Fnminttoken', 'Fnrotatesecret'])(
    'It should let %s send to the webhook queue, and only send',
    (prefix) => {
      const statements = policiesOf(`${prefix}Function`);
      expect(statements).toContain('sqs:SendMessage');
      expect(statements).not.toContain('sqs:ReceiveMessage');
      expect(statements).toContain(logicalId('AWS::SQS::Queue', 'WebhooksEvents'));
    },
  );

  it('It should tell every API function where to queue events', () => {
    const queue = logicalId('AWS::SQS::Queue', 'WebhooksEvents');
    const fn = template.findResources('AWS::Lambda::Function');
    const api = Object.entries(fn).filter(([id]) => id.startsWith('Fn'));
    expect(api.length).toBeGreaterThan(10);
    for (const [, resource] of api) {
      expect(JSON.stringify(resource)).toContain(`"WEBHOOK_QUEUE_URL":{"Ref":"${queue}"}`);
    }
  });

  it('It should alarm on the first dropped event', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId('AWS::SQS::Queue', 'WebhooksDeadLetters'), 'QueueName'] },
        },
      ],
      Threshold: 1,
      AlarmActions: Match.anyValue(),
    });
  });

  it('It should build no queue, no delivery function and no send rights without webhookUrl', () => {
    const without = synth({});
    without.resourceCountIs('AWS::SQS::Queue', 0);
    without.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    expect(JSON.stringify(without.toJSON())).not.toContain('sqs:SendMessage');
  });
});
