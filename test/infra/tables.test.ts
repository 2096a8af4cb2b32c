import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ChatWidgetStack } from '../../lib/chat-widget-stack.js';
import { parseContext } from '../../lib/context.js';

describe('Tables', () => {
  const settings = parseContext({ allowedOrigins: 'https://app.example.com' });
  const template = Template.fromStack(
    new ChatWidgetStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Test', { settings }),
  );

  it('It should declare every table on demand with PITR, KMS, TTL and deletion protection', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 3);
    template.allResourcesProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      TimeToLiveSpecification: { AttributeName: Match.anyValue(), Enabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it.each([
    [
      'conversations and security',
      'expiresAt',
      [
        { AttributeName: 'PK', KeyType: 'HASH' },
        { AttributeName: 'SK', KeyType: 'RANGE' },
      ],
      2,
    ],
    ['idempotency', 'expiration', [{ AttributeName: 'id', KeyType: 'HASH' }], 1],
  ])('It should key the %s tables as the local server does', (_name, ttl, keySchema, count) => {
    const tables = template.findResources('AWS::DynamoDB::Table', {
      Properties: { KeySchema: keySchema, TimeToLiveSpecification: { AttributeName: ttl } },
    });
    expect(Object.keys(tables)).toHaveLength(count);
  });

  it('It should give the conversations table the admin listing indexes the local server creates', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'byDay',
          KeySchema: [
            { AttributeName: 'listDay', KeyType: 'HASH' },
            { AttributeName: 'listKey', KeyType: 'RANGE' },
          ],
        }),
        Match.objectLike({
          IndexName: 'byUser',
          KeySchema: [
            { AttributeName: 'ownerKey', KeyType: 'HASH' },
            { AttributeName: 'listKey', KeyType: 'RANGE' },
          ],
        }),
      ],
    });
  });

  it('It should retain the tables and rotate the KMS key', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });
});
