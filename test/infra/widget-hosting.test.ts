import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChatWidgetStack } from '../../lib/chat-widget-stack.js';
import { WidgetHosting } from '../../lib/constructs/widget-hosting.js';
import { parseContext } from '../../lib/context.js';

const BUNDLE = 'window.ChatWidget={};';

describe('WidgetHosting', () => {
  let template: Template;
  beforeAll(() => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Hosting');
    new WidgetHosting(stack, 'WidgetHosting', { bundle: BUNDLE });
    template = Template.fromStack(stack);
  });

  it('It should keep both buckets private, encrypted and reachable over TLS only', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.allResourcesProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    const policies = template.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('It should let only this distribution read the bundle, through origin access control', () => {
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:GetObject',
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
    type Statement = { Effect: string; Principal: unknown };
    const allowed = Object.values(template.findResources('AWS::S3::BucketPolicy'))
      .flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
      )
      .filter((statement) => statement.Effect === 'Allow')
      .map((statement) => statement.Principal);
    // CloudFront reads the bundle and S3 delivers the access logs (by bucket policy, not the legacy
    // ACL); nobody else is allowed anything.
    expect(allowed).toEqual(
      expect.arrayContaining([{ Service: 'cloudfront.amazonaws.com' }, { Service: 'logging.s3.amazonaws.com' }]),
    );
    expect(allowed).toHaveLength(2);
  });

  it('It should serve HTTPS only, GET and HEAD only, with access logs', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'https-only',
          AllowedMethods: ['GET', 'HEAD'],
          ResponseHeadersPolicyId: Match.anyValue(),
        }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue() })],
        Logging: Match.objectLike({ Bucket: Match.anyValue(), Prefix: 'cloudfront/' }),
      }),
    });
  });

  it('It should send the security headers with the bundle', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: {
          ContentSecurityPolicy: {
            ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
            Override: true,
          },
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
          StrictTransportSecurity: { AccessControlMaxAgeSec: 31536000, IncludeSubdomains: true, Override: true },
        },
        CustomHeadersConfig: {
          Items: Match.arrayWith([
            Match.objectLike({ Header: 'Permissions-Policy', Value: 'camera=(), microphone=(), geolocation=()' }),
          ]),
        },
      }),
    });
  });

  it('It should deploy the bundle as widget.js and invalidate the cached copy', () => {
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DistributionPaths: ['/widget.js'],
      SystemMetadata: Match.objectLike({ 'content-type': 'text/javascript; charset=utf-8' }),
    });
  });
});

describe('ChatWidgetStack with widgetHosting', () => {
  const settings = parseContext({
    appEnv: 'production',
    allowedOrigins: 'https://app.example.com',
    widgetHosting: 'true',
  });

  it.each([
    ['an environment-agnostic stack', undefined],
    ['a stack with an account and region', { account: '123456789012', region: 'eu-west-1' }],
  ])('It should pass the AWS Solutions checks for %s and output the script URL', (_kind, env) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new ChatWidgetStack(app, 'NagWidget', { settings, env });
    expect(() => app.synth()).not.toThrow();
    const outputs = Template.fromStack(stack).findOutputs('WidgetScriptUrl');
    expect(JSON.stringify(outputs)).toMatch(
      /"https:\/\/",\{"Fn::GetAtt":\["WidgetHostingDistribution[^"]*","DomainName"\]\},"\/widget\.js"/,
    );
  });
});

describe('widgetHosting context', () => {
  it.each([
    [{}, false],
    [{ widgetHosting: 'false' }, false],
    [{ widgetHosting: 'true' }, true],
    [{ widgetHosting: true }, true],
  ])('It should read %j as widget hosting %s', (raw, expected) => {
    expect(parseContext({ allowedOrigins: 'https://a.example.com', ...raw }).widgetHosting).toBe(expected);
  });

  it('It should refuse a value that is not a boolean', () => {
    expect(() => parseContext({ allowedOrigins: 'https://a.example.com', widgetHosting: 'yes' })).toThrow(
      'widgetHosting',
    );
  });
});
