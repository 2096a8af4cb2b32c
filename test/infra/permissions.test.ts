import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ChatWidgetStack } from '../../lib/chat-widget-stack.js';
import { parseContext } from '../../lib/context.js';

/** Every optional part on (as `npm run check:template` lints them), so every permission any part adds is checked. */
const ALL_ON = {
  widgetHosting: 'true',
  webhookUrl: 'https://hooks.example.com/chat-widget',
  alarmEmail: 'ops@example.com',
  adminCidrs: '203.0.113.0/24',
  visitorChallenge: 'waf',
  budgetTokensPerDay: '5000000',
};
const VARIANTS = [
  ['default', {}],
  ['every optional part', { ...ALL_ON, llmProvider: 'openai', guardrailProvider: 'local' }],
  ['every optional part, Bedrock', { ...ALL_ON, llmProvider: 'bedrock', guardrailProvider: 'bedrock' }],
] as const;

interface PermissionProps {
  readonly Principal: unknown;
  readonly SourceArn?: unknown;
  readonly SourceAccount?: unknown;
}

function servicePermissions(context: Readonly<Record<string, string>>): [string, PermissionProps][] {
  const settings = parseContext({ appEnv: 'production', allowedOrigins: 'https://app.example.com', ...context });
  const template = Template.fromStack(
    // No bundling: only the template is checked.
    new ChatWidgetStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Perm', { settings }),
  );
  return Object.entries(template.findResources('AWS::Lambda::Permission'))
    .map(([id, resource]): [string, PermissionProps] => [id, (resource as { Properties: PermissionProps }).Properties])
    .filter(([, props]) => typeof props.Principal === 'string' && props.Principal.endsWith('.amazonaws.com'));
}

describe('Lambda permissions for AWS services (confused deputy)', () => {
  it.each(VARIANTS)('should give every service-principal permission a source condition (%s)', (_name, context) => {
    // Prepare / Act
    const permissions = servicePermissions(context);

    // Assess
    expect(permissions.length).toBeGreaterThan(0);
    const unconditioned = permissions
      .filter(([, props]) => props.SourceArn === undefined && props.SourceAccount === undefined)
      .map(([id, props]) => `${id} (${String(props.Principal)})`);
    expect(unconditioned).toEqual([]);
  });

  it('should limit the rotation function to secrets of this account', () => {
    // Prepare / Act
    const rotation = servicePermissions({}).filter(([, props]) => props.Principal === 'secretsmanager.amazonaws.com');

    // Assess
    expect(rotation).toHaveLength(1);
    expect(rotation[0]?.[1].SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
  });
});
