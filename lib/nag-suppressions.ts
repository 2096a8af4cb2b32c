/**
 * cdk-nag findings that are accepted, each acknowledged by its exact finding (not a whole rule)
 * and with the reason it is right for this service.
 */
import { DefaultStackSynthesizer, Stack, Token, Validations } from 'aws-cdk-lib';
import type { CfnTable, ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { WidgetHosting } from './constructs/widget-hosting.js';

/** Acknowledges the accepted findings on `stack`; `indexedTables` are the tables with GSIs. */
export function acknowledgeFindings(stack: Stack, indexedTables: readonly ITable[]): void {
  const managed = (policy: string) =>
    `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${policy}]`;
  const indexes = indexedTables.map((table) => {
    const logicalId = stack.getLogicalId(table.node.defaultChild as CfnTable);
    return {
      id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
      reason:
        'Queries on the GSIs of a stack-owned table (CDK grantReadWriteData); the index names are part of that table.',
    };
  });
  const acknowledged = [
    {
      id: managed('AWSLambdaBasicExecutionRole'),
      reason: 'The AWS-maintained minimal policy that lets a function write its own logs.',
    },
    {
      id: managed('AmazonAPIGatewayPushToCloudWatchLogs'),
      reason:
        'The AWS-maintained policy of the account-level role API Gateway needs to write execution and access logs.',
    },
    {
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'CDK grant on the stack-owned KMS keys of the tables and secrets; the resource is the key ARN.',
    },
    {
      id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
      reason: 'CDK grant on the stack-owned KMS keys of the tables and secrets; the resource is the key ARN.',
    },
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords, secretsmanager:BatchGetSecretValue and (with widget hosting) cloudfront:CreateInvalidation/GetInvalidation of the deployment function have no resource-level permissions; each secret is still authorised by the GetSecretValue grant on its own ARN.',
    },
    ...indexes,
    {
      id: 'AwsSolutions-APIG2',
      reason:
        'Requests are validated in the Lambda security chain with strict zod schemas, which answer in the contract error format; an API Gateway model would answer in another format.',
    },
    {
      id: 'AwsSolutions-APIG4',
      reason:
        'Authorisation runs in the Lambda chain (constant-time API keys, HS256 widget tokens with revocation, rate limits) so that local and deployed behave the same; unauthenticated routes (health, preflight, 404/405) touch no data.',
    },
    {
      id: 'AwsSolutions-COG4',
      reason:
        'No Cognito: widget tokens come from the customer backend or POST /v1/tokens and are verified in the Lambda chain.',
    },
  ];
  for (const finding of acknowledged) Validations.of(stack).acknowledge(finding);
}

/**
 * Acknowledges the findings of the optional widget hosting, on its distribution and on CDK's
 * bucket-deployment function only (the function lives at stack level, outside the construct).
 */
export function acknowledgeWidgetHostingFindings(hosting: WidgetHosting): void {
  const stack = Stack.of(hosting);
  const distribution = [
    {
      id: 'AwsSolutions-CFR1',
      reason: 'The widget script is public and meant to load on customer pages anywhere; no data is behind it.',
    },
    {
      id: 'AwsSolutions-CFR2',
      reason:
        'The distribution serves one public, cached, static file with no compute behind it; a CloudFront web ACL would have to live in us-east-1, and the API the widget calls is behind its own WAF.',
    },
    {
      id: 'AwsSolutions-CFR4',
      reason:
        'The default *.cloudfront.net certificate, whose viewer TLS policy CloudFront fixes; only the public widget script passes through it (no credentials, no personal data). Viewers are HTTPS only.',
    },
  ];
  for (const finding of distribution) Validations.of(hosting.distribution).acknowledge(finding);

  const bucketId = stack.getLogicalId(hosting.bucket.node.defaultChild as CfnBucket);
  const qualifier = stack.synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
  // The assets bucket is named after the environment, literally when the stack has one.
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const grant =
    "CDK BucketDeployment's grant: read the bundle from the CDK assets bucket, then sync (write, prune) the widget bucket; no other bucket.";
  const deploymentFunction = [
    { id: 'AwsSolutions-IAM5[Action::s3:GetObject*]', reason: grant },
    { id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]', reason: grant },
    { id: 'AwsSolutions-IAM5[Action::s3:List*]', reason: grant },
    { id: 'AwsSolutions-IAM5[Action::s3:DeleteObject*]', reason: grant },
    { id: 'AwsSolutions-IAM5[Action::s3:Abort*]', reason: grant },
    { id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`, reason: 'The objects of the stack-owned widget bucket.' },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-${account}-${region}/*]`,
      reason: 'The CDK bootstrap assets bucket, where the bundle is staged for the deployment.',
    },
    {
      id: 'AwsSolutions-L1',
      reason:
        "CDK's BucketDeployment provider function: its runtime is pinned by aws-cdk-lib and it runs only during deployments.",
    },
  ];
  // The role is a child of the provider function: acknowledging on the function covers both.
  const provider = hosting.deployment.handlerRole.node.scope ?? hosting.deployment;
  for (const finding of deploymentFunction) Validations.of(provider).acknowledge(finding);
}
