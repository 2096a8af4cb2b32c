import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ROUTES } from '../../lambdas/http/routes.js';
import { ChatWidgetStack } from '../../lib/chat-widget-stack.js';
import { parseContext } from '../../lib/context.js';

const settings = parseContext({
  appEnv: 'production',
  allowedOrigins: 'https://app.example.com',
  adminCidrs: '203.0.113.0/24',
});

/** Logical id of the function built for `handler`. */
function functionId(template: Template, handler: string): string {
  const found = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) =>
    id.startsWith(`Fn${handler.replace(/-/g, '')}Function`),
  );
  if (found.length !== 1) throw new Error(`expected one function for ${handler}, found ${found.length}`);
  return found[0]!;
}

describe('ChatWidgetStack', () => {
  let template: Template;
  beforeAll(() => {
    // Unbundled: the synth project (`npm run start:synth`) runs the real bundles; cdk-nag below bundles once.
    template = Template.fromStack(new ChatWidgetStack(unbundledApp(), 'Test', { settings }));
  });

  it('It should build every function on Node.js 24, arm64, with X-Ray tracing', () => {
    const functions = template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } });
    // One per Lambda entry of the route table, plus the fallback and the rotation function.
    expect(Object.keys(functions)).toHaveLength(new Set(ROUTES.map((r) => r.handler)).size + 2);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
    });
  });

  it.each(ROUTES.map((r) => [r.method, r.path, r.handler]))(
    'It should route %s %s to the %s function',
    (method, path, handler) => {
      const last = path.split('/').pop();
      const resources = template.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: last } });
      expect(Object.keys(resources).length).toBeGreaterThan(0);
      const id = functionId(template, handler);
      const methods = template.findResources('AWS::ApiGateway::Method', {
        Properties: { HttpMethod: method, ResourceId: { Ref: Match.anyValue() } },
      });
      const integrated = Object.values(methods).some((m) => {
        const uri = JSON.stringify((m as { Properties: { Integration: { Uri: unknown } } }).Properties.Integration.Uri);
        const resourceRef = JSON.stringify((m as { Properties: { ResourceId: unknown } }).Properties.ResourceId);
        return uri.includes(id) && Object.keys(resources).some((r) => resourceRef.includes(r));
      });
      expect(integrated).toBe(true);
    },
  );

  it('It should stream the stream route and buffer every other route', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as {
      Properties: { Integration?: { Uri: unknown; ResponseTransferMode?: string } };
    }[];
    const stream = functionId(template, 'post-chat-stream');
    const streamed = methods.filter((m) => m.Properties.Integration?.ResponseTransferMode === 'STREAM');
    expect(streamed).toHaveLength(1);
    expect(JSON.stringify(streamed[0]!.Properties.Integration!.Uri)).toContain(stream);
    expect(JSON.stringify(streamed[0]!.Properties.Integration!.Uri)).toContain('response-streaming-invocations');
  });

  it('It should send every other method and unknown paths to the fallback function', () => {
    const fallback = functionId(template, 'route-fallback');
    const any = template.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: 'ANY' } });
    const distinctPaths = new Set(ROUTES.map((r) => r.path)).size;
    // One ANY per route resource, plus the root itself and the root proxy.
    expect(Object.values(any).filter((m) => JSON.stringify(m).includes(fallback)).length).toBe(distinctPaths + 2);
  });

  it('It should attach a regional web ACL with managed groups and rate rules to the stage', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({ Name: 'AdminAllowList', Priority: 0 }),
        Match.objectLike({ Name: 'AWSManagedRulesAmazonIpReputationList' }),
        Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet' }),
        Match.objectLike({ Name: 'AWSManagedRulesKnownBadInputsRuleSet' }),
        Match.objectLike({
          Name: 'RatePerIp',
          Statement: { RateBasedStatement: Match.objectLike({ Limit: settings.wafRateLimit, AggregateKeyType: 'IP' }) },
          Action: {
            Block: { CustomResponse: Match.objectLike({ ResponseCode: 429, CustomResponseBodyKey: 'rateLimited' }) },
          },
        }),
        Match.objectLike({
          Name: 'RateChatPerIp',
          Statement: { RateBasedStatement: Match.objectLike({ Limit: settings.wafChatRateLimit }) },
        }),
        Match.objectLike({
          Name: 'RateTokensPerIp',
          Statement: { RateBasedStatement: Match.objectLike({ Limit: settings.wafTokenRateLimit }) },
        }),
      ]),
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      RedactedFields: Match.arrayWith([
        { SingleHeader: { Name: 'authorization' } },
        { SingleHeader: { Name: 'x-widget-api-key' } },
      ]),
    });
  });

  it('It should give only the conversation handlers access to the conversations table', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    const conversationsTable = Object.keys(template.findResources('AWS::DynamoDB::Table')).find((id) =>
      id.includes('Conversations'),
    )!;
    const withAccess = Object.entries(policies)
      .filter(([, p]) => JSON.stringify(p).includes(conversationsTable))
      .map(([id]) => id);
    for (const handler of [
      'mint-token',
      'revoke-token',
      'admin-revoke-token',
      'admin-list-audit',
      'admin-create-key',
      'admin-list-keys',
      'admin-revoke-key',
      'health',
      'route-fallback',
      'rotate-secret',
    ]) {
      expect(withAccess.some((id) => id.startsWith(`Fn${handler.replace(/-/g, '')}`))).toBe(false);
    }
    expect(withAccess.some((id) => id.startsWith('Fnpostchat'))).toBe(true);
  });

  it('It should give only the JSON chat handler access to the idempotency table', () => {
    const table = Object.keys(template.findResources('AWS::DynamoDB::Table')).find((id) => id.includes('Idempotency'))!;
    const withAccess = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([, p]) => JSON.stringify(p).includes(table))
      .map(([id]) => id);
    expect(withAccess).toHaveLength(1);
    expect(withAccess[0]).toMatch(/^FnpostchatFunction/);
  });

  it('It should grant no model access with the echo model', () => {
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('bedrock:');
    template.resourceCountIs('AWS::SecretsManager::Secret', 5);
  });

  it('It should rotate all five secrets (the webhook signing secret too) with the rotation function', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 5);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 5);
    template.allResourcesProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: `rate(${settings.rotationDays} days)` },
    });
  });

  it('It should carry the security headers on gateway responses', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      StatusCode: '429',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.X-Content-Type-Options': "'nosniff'" }),
    });
  });
});

/** An app that skips bundling (the main template and cdk synth still bundle every function). */
const unbundledApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

describe('model providers', () => {
  /** The statements of the policies of the functions named `handler`. */
  const statementsOf = (template: Template, handler: string): string =>
    JSON.stringify(
      Object.entries(template.findResources('AWS::IAM::Policy'))
        .filter(([id]) => id.startsWith(`Fn${handler.replace(/-/g, '')}FunctionServiceRoleDefaultPolicy`))
        .map(([, p]) => p),
    );

  it.each([
    ['anthropic.claude-3-haiku-20240307-v1:0', ['foundation-model/anthropic.claude-3-haiku-20240307-v1:0']],
    [
      'us.anthropic.claude-3-5-haiku-20241022-v1:0',
      [
        'inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0',
        ':bedrock:*::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0',
      ],
    ],
  ])('It should let only the chat handlers invoke the Bedrock model %s', (bedrockModelId, arns) => {
    const template = Template.fromStack(
      new ChatWidgetStack(unbundledApp(), 'Bedrock', {
        settings: parseContext({ ...settings, llmProvider: 'bedrock', bedrockModelId }),
      }),
    );
    for (const handler of ['post-chat', 'post-chat-stream']) {
      const statements = statementsOf(template, handler);
      expect(statements).toContain('bedrock:InvokeModelWithResponseStream');
      for (const arn of arns) expect(statements).toContain(arn);
    }
    for (const handler of ['mint-token', 'get-session-messages', 'admin-get-conversation']) {
      expect(statementsOf(template, handler)).not.toContain('bedrock:');
    }
  });

  it('It should keep an OpenAI key secret, unrotated, readable by the chat handlers only', () => {
    const template = Template.fromStack(
      new ChatWidgetStack(unbundledApp(), 'OpenAi', {
        settings: parseContext({ ...settings, llmProvider: 'openai', openAiBaseUrl: 'https://llm.example.com/v1' }),
      }),
    );
    template.resourceCountIs('AWS::SecretsManager::Secret', 6);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 5);
    const secret = Object.keys(template.findResources('AWS::SecretsManager::Secret')).find((id) =>
      id.includes('openaiapikey'),
    )!;
    expect(statementsOf(template, 'post-chat')).toContain(secret);
    expect(statementsOf(template, 'post-chat-stream')).toContain(secret);
    expect(statementsOf(template, 'get-session-messages')).not.toContain(secret);
  });

  it('It should refuse a plain-http model endpoint', () => {
    expect(() => parseContext({ ...settings, llmProvider: 'openai', openAiBaseUrl: 'http://llm.example.com' })).toThrow(
      'openAiBaseUrl',
    );
  });
});

describe('cdk-nag', () => {
  it.each([
    ['echo', undefined, undefined],
    ['openai', undefined, undefined],
    ['bedrock', 'anthropic.claude-3-haiku-20240307-v1:0', undefined],
    ['bedrock', 'eu.anthropic.claude-3-haiku-20240307-v1:0', undefined],
    ['echo', undefined, 'https://hooks.example.com/in'],
  ])(
    'It should pass the AWS Solutions checks with only reasoned acknowledgements (%s model %s, webhooks %s)',
    (llmProvider, bedrockModelId, webhookUrl) => {
      const app = llmProvider === 'echo' && webhookUrl === undefined ? new App() : unbundledApp();
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      new ChatWidgetStack(app, 'Nag', {
        settings: parseContext({ ...settings, llmProvider, bedrockModelId, webhookUrl }),
      });
      expect(() => app.synth()).not.toThrow();
    },
  );

  it('It should fail synth for an unacknowledged finding (the check is live)', () => {
    const app = new App();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new Bucket(new Stack(app, 'Bad'), 'Open');
    expect(() => app.synth()).toThrow();
  });
});

describe('context', () => {
  it.each([
    [{ appEnv: 'production', allowedOrigins: '*' }, 'CORS_ORIGIN'],
    [{ appEnv: 'production' }, 'CORS_ORIGIN'],
    [{ allowedOrigins: 'https://a.example.com', wafEvaluationWindowSeconds: 42 }, 'wafEvaluationWindowSeconds'],
    [{ allowedOrigins: 'https://a.example.com', adminCidrs: 'not-a-cidr' }, 'adminCidrs'],
    [{ allowedOrigins: 'https://a.example.com', alarmEmail: 'nobody' }, 'alarmEmail'],
    [{ allowedOrigins: 'https://a.example.com', webhookUrl: 'http://hooks.example.com/in' }, 'WEBHOOK_URL'],
    [{ allowedOrigins: 'https://a.example.com', webhookUrl: 'ftp://hooks.example.com/in' }, 'webhookUrl'],
  ])('It should refuse %j naming %s', (raw, name) => {
    expect(() => parseContext(raw)).toThrow(name);
  });

  it('It should collect every problem before failing', () => {
    expect(() => parseContext({ rotationDays: 0, wafRateLimit: 1 })).toThrow(
      /rotationDays[\s\S]*wafRateLimit|wafRateLimit[\s\S]*rotationDays/,
    );
  });
});
