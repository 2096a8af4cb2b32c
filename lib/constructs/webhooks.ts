/**
 * Webhook delivery, deployed: an encrypted SQS queue (customer-managed KMS key, TLS enforced)
 * that every API function may send to, a dead-letter queue for events out of attempts, and the
 * delivery Lambda (built by `HandlerFunction`, like every other function) fed by the queue with
 * partial batch failures. An alarm fires as soon as an event reaches the dead-letter queue.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HandlerFunction } from './handler-function.js';

/** Props of `Webhooks`. */
export interface WebhooksProps {
  /** The environment of the API functions (the delivery function adds `WEBHOOK_QUEUE_URL`). */
  readonly environment: Readonly<Record<string, string>>;
  /** The secrets (the webhook signing secret among them). */
  readonly secrets: readonly ISecret[];
  /** The security table, where dropped events are recorded. */
  readonly securityTable: ITable;
  /**
   * Delivery attempts per event before it goes to the dead-letter queue (`WEBHOOK_MAX_ATTEMPTS`).
   * @default 8
   */
  readonly maxAttempts?: number;
  /**
   * Delivery functions running at once at most: a bound on the load put on the receiver.
   * @default 2
   */
  readonly maxConcurrency?: number;
  /**
   * Log retention of the delivery function.
   * @default one month
   */
  readonly logRetention?: RetentionDays;
  /**
   * Delete the queues' messages and the logs with the stack.
   * @default false
   */
  readonly destroy?: boolean;
}

/** Timeout of one delivery batch: ten attempts of at most `WEBHOOK_TIMEOUT_MS` (5 s) run in parallel. */
const DELIVERY_TIMEOUT = Duration.seconds(30);

/** The webhook queue, its dead-letter queue and the delivery function. */
export class Webhooks extends Construct {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly function: IFunction;

  constructor(scope: Construct, id: string, props: WebhooksProps) {
    super(scope, id);
    const maxAttempts = props.maxAttempts ?? 8;
    const removalPolicy = props.destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const key = new Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'Encrypts the chat widget webhook queues',
    });
    const deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    const queue = new Queue(this, 'Events', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      // At least the function's timeout; a failed event's own wait is set per message (backoff).
      visibilityTimeout: Duration.seconds(DELIVERY_TIMEOUT.toSeconds() * 2),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: maxAttempts },
      removalPolicy,
    });
    const delivery = new HandlerFunction(this, 'Delivery', {
      handler: 'deliver-webhook',
      environment: {
        ...props.environment,
        WEBHOOK_QUEUE_URL: queue.queueUrl,
        WEBHOOK_MAX_ATTEMPTS: String(maxAttempts),
      },
      readSecrets: props.secrets,
      readWriteTables: [props.securityTable],
      timeout: DELIVERY_TIMEOUT,
      logRetention: props.logRetention,
      destroyLogs: props.destroy,
    }).function;
    delivery.addEventSource(
      new SqsEventSource(queue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: props.maxConcurrency ?? 2,
      }),
    );
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;
    this.function = delivery;
  }

  /** Alarms on `topic` as soon as an event is in the dead-letter queue (it was dropped). */
  alarmTo(topic: ITopic): void {
    new Alarm(this, 'Dropped', {
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: 'Webhook events ran out of delivery attempts (see the dead-letter queue)',
    }).addAlarmAction(new SnsAction(topic));
  }
}
