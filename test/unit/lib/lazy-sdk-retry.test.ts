/**
 * An SDK client that cannot be built (its import or its HTTP handler fails) fails the call, and
 * the next call tries again: a failed load is never kept for the life of the instance. Each case
 * fails the shared HTTP handler's load once, then lets it load.
 */
import { jest } from '@jest/globals';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { mockClient } from 'aws-sdk-client-mock';

const loadHttpHandler = jest.fn<() => Promise<NodeHttpHandler>>();
jest.unstable_mockModule('../../../lambdas/lib/http-handler.js', () => ({ loadHttpHandler }));

const { loadConfig } = await import('../../../lambdas/lib/config.js');
const { createRuntime } = await import('../../../lambdas/lib/runtime.js');
const { EnvOverrideSource } = await import('../../../lambdas/lib/secrets/env-secrets.js');
const { SecretsManagerValues } = await import('../../../lambdas/lib/secrets/secrets-manager.js');
const { createWebhookPublisher } = await import('../../../lambdas/lib/webhooks/index.js');
const { lazyBedrockRuntime } = await import('../../../lambdas/lib/llm/bedrock-runtime.js');
const deliverWebhook = await import('../../../lambdas/handlers/deliver-webhook.js');

const dynamo = mockClient(DynamoDBClient);
const secretsManager = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);

/** A call that needs the SDK client; resolves to whether it reached the (mocked) service. */
type Call = () => Promise<boolean>;

function dynamoDbCall(): Call {
  const config = loadConfig({ AWS_REGION: 'us-east-1' });
  const runtime = createRuntime({
    config,
    secretSource: new EnvOverrideSource(config.secretOverrides),
    metrics: false,
  });
  return async () => {
    await runtime.conversations.getMessage('session', 'MSG#1', Date.now());
    return dynamo.commandCalls(GetItemCommand).length > 0;
  };
}

function secretsManagerCall(): Call {
  const values = new SecretsManagerValues();
  return async () => (await values.get('model-key', { maxAge: 0 })) === 'value';
}

function sqsCall(): Call {
  const config = loadConfig({
    AWS_REGION: 'us-east-1',
    WEBHOOK_URL: 'https://hooks.example.com/in',
    WEBHOOK_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/hooks',
  });
  const publisher = createWebhookPublisher(config, {
    secrets: { get: async () => ({}) } as never,
    clock: Date.now,
    onDropped: () => undefined,
  });
  return async () => {
    await publisher?.publish({ type: 'test' } as never);
    return sqs.commandCalls(SendMessageCommand).length > 0;
  };
}

function bedrockCall(): Call {
  const load = lazyBedrockRuntime({ connectTimeoutMs: 1000 });
  return async () => (await load()).client !== undefined;
}

/** The webhook delivery function (Lambda entry), built from the environment on its first batch. */
function deliveryCall(): Call {
  process.env.AWS_REGION = 'us-east-1';
  process.env.WEBHOOK_URL = 'https://hooks.example.com/in';
  process.env.WEBHOOK_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/hooks';
  return async () => {
    await deliverWebhook.handler({ Records: [] });
    return true;
  };
}

describe('lazily loaded SDK clients', () => {
  beforeEach(() => {
    dynamo.reset();
    secretsManager.reset();
    sqs.reset();
    dynamo.on(GetItemCommand).resolves({});
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'value' });
    sqs.on(SendMessageCommand).resolves({});
    loadHttpHandler.mockReset();
    loadHttpHandler.mockRejectedValueOnce(new Error('load failed')).mockResolvedValue(new NodeHttpHandler());
  });
  afterAll(() => {
    dynamo.restore();
    secretsManager.restore();
    sqs.restore();
  });

  it.each<[string, () => Call]>([
    ['DynamoDB (the runtime stores)', dynamoDbCall],
    ['Secrets Manager (the model key)', secretsManagerCall],
    ['SQS (the webhook publisher)', sqsCall],
    ['Bedrock Runtime (the model)', bedrockCall],
    ['SQS (the webhook delivery function)', deliveryCall],
  ])('should load the %s client again on the next call after a failed load', async (_name, make) => {
    // Prepare
    const call = make();
    // Act
    const first = await call().catch(() => false);
    const second = await call();
    // Assess
    expect(first).toBe(false);
    expect(second).toBe(true);
    expect(loadHttpHandler).toHaveBeenCalledTimes(2);
  });
});
