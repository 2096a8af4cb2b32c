/**
 * The DynamoDB tables, declared from the same key schema the local server uses: on-demand,
 * point-in-time recovery, customer-managed KMS encryption, deletion protection and TTL.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  CONVERSATIONS_SCHEMA,
  IDEMPOTENCY_SCHEMA,
  SECURITY_SCHEMA,
  type TableSchema,
} from '../../lambdas/lib/stores/table-schema.js';

/** Props of `Tables`. */
export interface TablesProps {
  /**
   * Whether deleting the stack keeps the tables (and their data).
   * @default true
   */
  readonly retainData?: boolean;
}

/** The conversations, security and idempotency tables. */
export class Tables extends Construct {
  readonly conversations: ITable;
  readonly security: ITable;
  /** Powertools Idempotency records of `Idempotency-Key` requests (hashes and message references only). */
  readonly idempotency: ITable;

  constructor(scope: Construct, id: string, props: TablesProps = {}) {
    super(scope, id);
    const key = new Key(this, 'Key', { enableKeyRotation: true, description: 'Encrypts the chat widget tables' });
    const removalPolicy = props.retainData === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const table = (name: string, schema: TableSchema): Table => {
      const created = new Table(this, name, {
        partitionKey: { name: schema.partitionKey, type: AttributeType.STRING },
        ...(schema.sortKey ? { sortKey: { name: schema.sortKey, type: AttributeType.STRING } } : {}),
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: key,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: props.retainData !== false,
        timeToLiveAttribute: schema.ttlAttribute,
        removalPolicy,
      });
      for (const index of schema.indexes) {
        created.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          sortKey: { name: index.sortKey, type: AttributeType.STRING },
        });
      }
      return created;
    };
    this.conversations = table('Conversations', CONVERSATIONS_SCHEMA);
    this.security = table('Security', SECURITY_SCHEMA);
    this.idempotency = table('Idempotency', IDEMPOTENCY_SCHEMA);
  }
}
