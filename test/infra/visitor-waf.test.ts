/**
 * Visitor tokens deployed (design §14): `visitorChallenge=waf` puts a WAF rule with the
 * `CHALLENGE` action on `POST /v1/visitor-tokens`, token domains from `allowedOrigins`, and
 * `VISITOR_CHALLENGE=waf` into the functions' environment; `pow` adds none of it. cdk-nag stays clean.
 */
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ChatWidgetStack } from '../../lib/chat-widget-stack.js';
import { tokenDomainsFor } from '../../lib/constructs/waf.js';
import { parseContext } from '../../lib/context.js';

const BASE = {
  appEnv: 'production',
  allowedOrigins: 'https://app.example.com,https://*.shop.example.net,https://app.example.com:8443',
};

const templateFor = (visitorChallenge: string | undefined) =>
  Template.fromStack(
    new ChatWidgetStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test', {
      settings: parseContext({ ...BASE, ...(visitorChallenge === undefined ? {} : { visitorChallenge }) }),
    }),
  );

describe('visitorChallenge', () => {
  let waf: Template;
  let pow: Template;
  beforeAll(() => {
    waf = templateFor('waf');
    pow = templateFor(undefined);
  });

  it('should challenge POST /v1/visitor-tokens and accept tokens of the widget sites with waf', () => {
    // Assess
    waf.hasResourceProperties('AWS::WAFv2::WebACL', {
      TokenDomains: ['app.example.com', 'shop.example.net'],
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'VisitorTokenChallenge',
          Action: { Challenge: {} },
          Statement: {
            AndStatement: {
              Statements: [
                {
                  ByteMatchStatement: Match.objectLike({
                    FieldToMatch: { UriPath: {} },
                    PositionalConstraint: 'EXACTLY',
                    SearchString: '/v1/visitor-tokens',
                  }),
                },
                {
                  ByteMatchStatement: Match.objectLike({
                    FieldToMatch: { Method: {} },
                    PositionalConstraint: 'EXACTLY',
                    SearchString: 'POST',
                  }),
                },
              ],
            },
          },
        }),
      ]),
    });
  });

  it.each([
    ['waf', 'waf'],
    ['pow (the default)', 'pow'],
  ])('should tell every API function the challenge with %s', (_name, expected) => {
    // Prepare
    const template = expected === 'waf' ? waf : pow;

    // Act
    const functions = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }),
    ) as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }[];

    // Assess
    const values = functions
      .map((f) => f.Properties.Environment?.Variables?.VISITOR_CHALLENGE)
      .filter((v) => v !== undefined);
    expect(values.length).toBeGreaterThan(0);
    expect(new Set(values)).toEqual(new Set([expected]));
  });

  it('should add neither the rule nor token domains with pow', () => {
    // Act
    const acl = Object.values(pow.findResources('AWS::WAFv2::WebACL'))[0] as {
      Properties: { Rules: { Name: string }[]; TokenDomains?: unknown };
    };

    // Assess
    expect(acl.Properties.Rules.map((r) => r.Name)).not.toContain('VisitorTokenChallenge');
    expect(acl.Properties.TokenDomains).toBeUndefined();
  });

  it('should pass the AWS Solutions checks with waf', () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new ChatWidgetStack(app, 'Nag', { settings: parseContext({ ...BASE, visitorChallenge: 'waf' }) });

    // Act / Assess
    expect(() => app.synth()).not.toThrow();
  });

  it.each(['none', 'captcha'])('should refuse visitorChallenge=%s', (value) => {
    // Act / Assess
    expect(() => parseContext({ ...BASE, visitorChallenge: value })).toThrow('visitorChallenge');
  });
});

describe('tokenDomainsFor', () => {
  it.each<[string[], string[]]>([
    [['https://app.example.com'], ['app.example.com']],
    [['https://*.example.com'], ['example.com']],
    [['https://a.example.com', 'https://a.example.com:8443', 'http://a.example.com'], ['a.example.com']],
    [['http://localhost:3000', 'http://127.0.0.1:8080', 'https://app.example.com'], ['app.example.com']],
    [[], []],
  ])('should turn %j into %j', (origins, domains) => {
    // Act / Assess
    expect(tokenDomainsFor(origins)).toEqual(domains);
  });
});
