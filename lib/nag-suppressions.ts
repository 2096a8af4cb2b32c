/**
 * cdk-nag findings that are accepted, each acknowledged by its exact finding (not a whole rule)
 * and with the reason it is right for this service.
 */
import type { Stack } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import type { CfnTable, ITable } from 'aws-cdk-lib/aws-dynamodb';

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
        'X-Ray PutTraceSegments/PutTelemetryRecords and secretsmanager:BatchGetSecretValue have no resource-level permissions; each secret is still authorised by the GetSecretValue grant on its own ARN.',
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
