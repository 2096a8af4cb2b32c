/**
 * The AWS WAF web ACL in front of the API stage: AWS managed rule groups (IP reputation, common
 * rules, known bad inputs), a per-IP rate rule on every path, tighter per-IP rules on the chat
 * routes and on token minting, an optional admin IP allow-list, a custom 429 JSON body with
 * `Retry-After`, and logging with the credential headers redacted.
 */
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnIPSet, CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { errorBody, securityHeaderTable, WAF_SECURITY_HEADERS } from '../../lambdas/http/contract.js';
import { route } from '../../lambdas/http/routes.js';
import { Construct } from 'constructs';
import { parseOriginList } from '../../lambdas/lib/origins.js';

/** Props of `Waf`. */
export interface WafProps {
  readonly stage: Stage;
  /** Requests per IP per evaluation window on every path. */
  readonly rateLimit: number;
  /** Requests per IP per evaluation window on `/v1/chat*` and `/chat`. */
  readonly chatRateLimit: number;
  /** Requests per IP per evaluation window on `/v1/tokens`. */
  readonly tokenRateLimit: number;
  /** 60, 120, 300 or 600 seconds. */
  readonly evaluationWindowSeconds: number;
  /**
   * CIDR blocks allowed to reach `/v1/admin/*`; empty: no IP restriction.
   * @default none
   */
  readonly adminCidrs?: readonly string[];
  /**
   * Visitor tokens paid with the AWS WAF challenge (`visitorChallenge=waf`, design §14): a rule
   * with the `CHALLENGE` action on `POST /v1/visitor-tokens`, and the web ACL's token domains.
   * @default none: the app's own proof of work guards the route
   */
  readonly visitorChallenge?: {
    /** The sites the widget runs on, whose WAF tokens are accepted (see `tokenDomainsFor`). */
    readonly tokenDomains: readonly string[];
  };
  /**
   * Delete the WAF log group with the stack.
   * @default false
   */
  readonly destroyLogs?: boolean;
}

const RATE_LIMITED_BODY = 'rateLimited';
const metrics = (name: string) => ({ cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true });
const method = (searchString: string) => ({
  byteMatchStatement: {
    fieldToMatch: { method: {} },
    positionalConstraint: 'EXACTLY',
    searchString,
    textTransformations: [{ priority: 0, type: 'NONE' }],
  },
});
const path = (searchString: string, positionalConstraint: 'STARTS_WITH' | 'EXACTLY') => ({
  byteMatchStatement: {
    fieldToMatch: { uriPath: {} },
    positionalConstraint,
    searchString,
    textTransformations: [{ priority: 0, type: 'NONE' }],
  },
});

/**
 * The WAF token domains for the widget's sites: the host of each exact origin and the domain of
 * each wildcard (`https://*.example.com` → `example.com`; WAF accepts a domain's subdomains too).
 * Loopback hosts and IP addresses are left out: no WAF token is issued for them.
 */
export function tokenDomainsFor(allowedOrigins: readonly string[]): string[] {
  const { rules } = parseOriginList(allowedOrigins.join(','), { allowStar: false });
  const domains = rules.flatMap((rule) => {
    if (rule.kind === 'wildcard') return [rule.suffix.slice(1)];
    if (rule.kind === 'exact') return [new URL(rule.origin).hostname];
    return [];
  });
  return [...new Set(domains)].filter((d) => d !== 'localhost' && !/^[\d.]+$/.test(d) && !d.startsWith('['));
}

/** The web ACL and its association with the stage. */
export class Waf extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: WafProps) {
    super(scope, id);
    const block429 = {
      block: {
        customResponse: {
          responseCode: 429,
          customResponseBodyKey: RATE_LIMITED_BODY,
          responseHeaders: [
            { name: 'Retry-After', value: String(props.evaluationWindowSeconds) },
            ...WAF_SECURITY_HEADERS.map((name) => ({ name, value: securityHeaderTable(true)[name]! })),
          ],
        },
      },
    };
    const rateRule = (name: string, priority: number, limit: number, scopeDown?: object): CfnWebACL.RuleProperty => ({
      name,
      priority,
      action: block429,
      visibilityConfig: metrics(name),
      statement: {
        rateBasedStatement: {
          limit,
          aggregateKeyType: 'IP',
          evaluationWindowSec: props.evaluationWindowSeconds,
          ...(scopeDown === undefined ? {} : { scopeDownStatement: scopeDown }),
        },
      },
    });
    const managed = (name: string, priority: number, overrides: string[] = []): CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      visibilityConfig: metrics(name),
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ...(overrides.length === 0
            ? {}
            : { ruleActionOverrides: overrides.map((rule) => ({ name: rule, actionToUse: { count: {} } })) }),
        },
      },
    });

    const rules: CfnWebACL.RuleProperty[] = [];
    const adminCidrs = props.adminCidrs ?? [];
    if (adminCidrs.length > 0) {
      const v4 = adminCidrs.filter((c) => !c.includes(':'));
      const v6 = adminCidrs.filter((c) => c.includes(':'));
      const sets = [
        ...(v4.length > 0
          ? [new CfnIPSet(this, 'AdminIpv4', { scope: 'REGIONAL', ipAddressVersion: 'IPV4', addresses: v4 })]
          : []),
        ...(v6.length > 0
          ? [new CfnIPSet(this, 'AdminIpv6', { scope: 'REGIONAL', ipAddressVersion: 'IPV6', addresses: v6 })]
          : []),
      ];
      const allowed = sets.map((set) => ({ ipSetReferenceStatement: { arn: set.attrArn } }));
      rules.push({
        name: 'AdminAllowList',
        priority: 0,
        action: { block: {} },
        visibilityConfig: metrics('AdminAllowList'),
        statement: {
          andStatement: {
            statements: [
              path('/v1/admin', 'STARTS_WITH'),
              {
                notStatement: {
                  statement:
                    allowed.length === 1
                      ? (allowed[0] as CfnWebACL.StatementProperty)
                      : { orStatement: { statements: allowed } },
                },
              },
            ],
          },
        },
      });
    }
    rules.push(
      managed('AWSManagedRulesAmazonIpReputationList', 1),
      // The application enforces its own body limit (MAX_BODY_BYTES); the group's 8 KB cap would cut long messages.
      managed('AWSManagedRulesCommonRuleSet', 2, ['SizeRestrictions_BODY']),
      managed('AWSManagedRulesKnownBadInputsRuleSet', 3),
      rateRule('RatePerIp', 4, props.rateLimit),
      rateRule('RateChatPerIp', 5, props.chatRateLimit, {
        orStatement: { statements: [path('/v1/chat', 'STARTS_WITH'), path('/chat', 'EXACTLY')] },
      }),
      rateRule('RateTokensPerIp', 6, props.tokenRateLimit, path('/v1/tokens', 'STARTS_WITH')),
    );
    if (props.visitorChallenge) {
      const mint = route('POST /v1/visitor-tokens');
      // Only the mint: the challenge route and CORS preflight (OPTIONS) must stay reachable.
      rules.push({
        name: 'VisitorTokenChallenge',
        priority: 7,
        action: { challenge: {} },
        visibilityConfig: metrics('VisitorTokenChallenge'),
        statement: { andStatement: { statements: [path(mint.path, 'EXACTLY'), method(mint.method)] } },
      });
    }

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: metrics('ChatWidgetWebAcl'),
      customResponseBodies: {
        [RATE_LIMITED_BODY]: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify(
            errorBody('RATE_LIMIT_EXCEEDED', 'Too many requests. Retry later.', {
              retry_after: props.evaluationWindowSeconds,
            }),
          ),
        },
      },
      rules,
      ...(props.visitorChallenge && props.visitorChallenge.tokenDomains.length > 0
        ? { tokenDomains: [...props.visitorChallenge.tokenDomains] }
        : {}),
    });
    new CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    const logs = new LogGroup(this, 'Logs', {
      // WAF only delivers to log groups whose name starts with aws-waf-logs-.
      logGroupName: `aws-waf-logs-${Stack.of(this).stackName}`,
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: props.destroyLogs ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    new CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: logs.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: [
        { singleHeader: { Name: 'authorization' } },
        { singleHeader: { Name: 'x-widget-api-key' } },
        { singleHeader: { Name: 'cookie' } },
      ],
    });
  }
}
