/**
 * The Bedrock guardrail in the stack (design §13): created from context keys with its version,
 * applied only by the chat functions (`bedrock:ApplyGuardrail` on that guardrail only), its id and
 * version passed to the functions, cdk-nag clean; and nothing of it with the local guardrail.
 */
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChatWidgetStack } from '../../lib/chat-widget-stack.js';
import { parseContext } from '../../lib/context.js';

const base = { appEnv: 'production', allowedOrigins: 'https://app.example.com' };
const bedrockContext = {
  ...base,
  guardrailProvider: 'bedrock',
  guardrailPiiEntities: 'EMAIL,PHONE,US_PASSPORT_NUMBER',
  guardrailPiiAction: 'block',
  guardrailDenyWords: 'acme,contoso',
  guardrailBlockedMessage: 'Not something I can help with.',
};

/** An app that skips bundling. */
const unbundledApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

/** The policy statements of the functions named `handler`. */
const statementsOf = (template: Template, handler: string): string =>
  JSON.stringify(
    Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith(`Fn${handler.replace(/-/g, '')}FunctionServiceRoleDefaultPolicy`))
      .map(([, p]) => p),
  );

describe('Bedrock guardrail', () => {
  let template: Template;
  beforeAll(() => {
    template = Template.fromStack(
      new ChatWidgetStack(unbundledApp(), 'Guarded', { settings: parseContext(bedrockContext) }),
    );
  });

  it('should create the guardrail from the context keys', () => {
    template.resourceCountIs('AWS::Bedrock::Guardrail', 1);
    template.hasResourceProperties('AWS::Bedrock::Guardrail', {
      BlockedInputMessaging: 'Not something I can help with.',
      BlockedOutputsMessaging: 'Not something I can help with.',
      ContentPolicyConfig: {
        FiltersConfig: Match.arrayWith([{ Type: 'PROMPT_ATTACK', InputStrength: 'HIGH', OutputStrength: 'NONE' }]),
      },
      SensitiveInformationPolicyConfig: {
        PiiEntitiesConfig: [
          { Type: 'EMAIL', Action: 'BLOCK' },
          { Type: 'PHONE', Action: 'BLOCK' },
          { Type: 'US_PASSPORT_NUMBER', Action: 'BLOCK' },
        ],
      },
      WordPolicyConfig: {
        WordsConfig: [{ Text: 'acme' }, { Text: 'contoso' }],
        ManagedWordListsConfig: [{ Type: 'PROFANITY' }],
      },
    });
  });

  it('should create a version of that guardrail', () => {
    const [guardrailId] = Object.keys(template.findResources('AWS::Bedrock::Guardrail'));
    template.resourceCountIs('AWS::Bedrock::GuardrailVersion', 1);
    template.hasResourceProperties('AWS::Bedrock::GuardrailVersion', {
      GuardrailIdentifier: { 'Fn::GetAtt': [guardrailId, 'GuardrailId'] },
      Description: Match.stringLikeRegexp('^configuration [0-9a-f]{16}$'),
    });
  });

  it('should let only the chat functions apply that guardrail, and nothing else', () => {
    const [guardrailId] = Object.keys(template.findResources('AWS::Bedrock::Guardrail'));
    for (const handler of ['post-chat', 'post-chat-stream']) {
      const statements = JSON.parse(statementsOf(template, handler)) as unknown[];
      expect(JSON.stringify(statements)).toContain(
        JSON.stringify({
          Action: 'bedrock:ApplyGuardrail',
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [guardrailId, 'GuardrailArn'] },
        }),
      );
    }
    for (const handler of ['mint-token', 'get-session-messages', 'admin-get-conversation']) {
      expect(statementsOf(template, handler)).not.toContain('bedrock:');
    }
  });

  it('should pass the guardrail id and version to the chat functions', () => {
    const [guardrailId] = Object.keys(template.findResources('AWS::Bedrock::Guardrail'));
    const [versionId] = Object.keys(template.findResources('AWS::Bedrock::GuardrailVersion'));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          GUARDRAIL_PROVIDER: 'bedrock',
          GUARDRAIL_PII_ACTION: 'block',
          BEDROCK_GUARDRAIL_ID: { 'Fn::GetAtt': [guardrailId, 'GuardrailId'] },
          BEDROCK_GUARDRAIL_VERSION: { 'Fn::GetAtt': [versionId, 'Version'] },
        }),
      },
    });
  });

  it('should pass the AWS Solutions checks', () => {
    const app = unbundledApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new ChatWidgetStack(app, 'Nag', { settings: parseContext(bedrockContext) });
    expect(() => app.synth()).not.toThrow();
  });

  it('should alarm on the blocked count and graph it by direction and category', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'GuardrailBlocked',
      Namespace: 'ChatWidget',
      Dimensions: [{ Name: 'service', Value: 'chat-widget' }],
    });
    const dashboard = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard).toContain('Guardrail blocks by direction and category');
    expect(dashboard).toContain('GuardrailBlocked');
  });
});

describe('local guardrail', () => {
  it('should create no Bedrock guardrail and grant nothing of Bedrock', () => {
    const template = Template.fromStack(new ChatWidgetStack(unbundledApp(), 'Local', { settings: parseContext(base) }));
    template.resourceCountIs('AWS::Bedrock::Guardrail', 0);
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('bedrock:');
  });

  it.each([
    [{ guardrailPiiEntities: 'NOT_AN_ENTITY' }, 'GUARDRAIL_PII_ENTITIES'],
    [{ guardrailPiiEntities: 'US_PASSPORT_NUMBER' }, 'GUARDRAIL_PROVIDER=local cannot detect'],
    [{ guardrailProvider: 'openai' }, 'guardrailProvider'],
  ])('should refuse the context %j', (extra, message) => {
    expect(() => parseContext({ ...base, ...extra })).toThrow(message);
  });
});
