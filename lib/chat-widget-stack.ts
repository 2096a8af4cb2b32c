/**
 * The stack: wires the constructs together, nothing else. Every function is built by
 * `HandlerFunction` with only the grants it needs; the API is built from the shared route table.
 */
import { CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DEFAULT_BEDROCK_MODEL_ID } from '../lambdas/lib/config.js';
import { ROUTES, type HandlerName } from '../lambdas/http/routes.js';
import { DEFAULT_BLOCKED_MESSAGE } from '../lambdas/lib/guardrails/config.js';
import { LOCAL_PII_ENTITIES } from '../lambdas/lib/guardrails/entities.js';
import { Api } from './constructs/api.js';
import { BedrockGuardrail } from './constructs/guardrail.js';
import { HandlerFunction, type HandlerFunctionProps } from './constructs/handler-function.js';
import { Monitoring } from './constructs/monitoring.js';
import { Secrets } from './constructs/secrets.js';
import { Tables } from './constructs/tables.js';
import { Waf, tokenDomainsFor } from './constructs/waf.js';
import { Webhooks } from './constructs/webhooks.js';
import { WidgetHosting } from './constructs/widget-hosting.js';
import { lambdaEnvironment, type DeploymentContext } from './context.js';
import { acknowledgeFindings, acknowledgeWidgetHostingFindings } from './nag-suppressions.js';

/** Props of `ChatWidgetStack`. */
export interface ChatWidgetStackProps extends StackProps {
  /** The validated deployment context (see `lib/context.ts`). */
  readonly settings: DeploymentContext;
}

/** What one handler may touch beyond the security table, which every API function uses. */
interface Grant {
  readonly conversations: boolean;
  /** Powertools Idempotency records (`Idempotency-Key`). */
  readonly idempotency?: boolean;
  /** The model: Bedrock invoke rights, or the OpenAI key secret. */
  readonly model?: boolean;
}

/** Which handlers touch which data: the least-privilege map of the service. */
const GRANTS: Readonly<Record<HandlerName, Grant>> = {
  'post-chat': { conversations: true, idempotency: true, model: true },
  'post-chat-stream': { conversations: true, model: true },
  'get-session-messages': { conversations: true },
  'admin-list-conversations': { conversations: true },
  'admin-get-conversation': { conversations: true },
  'admin-delete-conversation': { conversations: true },
  'admin-list-audit': { conversations: false },
  'admin-revoke-token': { conversations: false },
  'admin-create-key': { conversations: false },
  'admin-list-keys': { conversations: false },
  'admin-revoke-key': { conversations: false },
  'admin-pause-chat': { conversations: false },
  'admin-resume-chat': { conversations: false },
  'admin-get-usage': { conversations: false },
  'mint-token': { conversations: false },
  'revoke-token': { conversations: false },
  'visitor-challenge': { conversations: false },
  'mint-visitor-token': { conversations: false },
  health: { conversations: false },
  'route-fallback': { conversations: false },
};

/** Cross-region inference profile ids start with their geography (`us.anthropic…`). */
const PROFILE_PREFIX = /^(us|eu|apac|us-gov|jp|au|ca|global)\./;

/**
 * The ARNs that allow invoking `modelId`: the foundation model in this region, or for an
 * inference profile, the profile and its model in the regions the profile routes to.
 */
function bedrockModelArns(stack: Stack, modelId: string): { arns: string[] } {
  const profile = PROFILE_PREFIX.exec(modelId);
  if (!profile) return { arns: [`arn:${stack.partition}:bedrock:${stack.region}::foundation-model/${modelId}`] };
  const model = modelId.slice(profile[0].length);
  Validations.of(stack).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${model}]`,
    reason:
      'A cross-region inference profile routes to this one model in the regions of its geography, which AWS chooses; the grant names the model.',
  });
  return {
    arns: [
      `arn:${stack.partition}:bedrock:${stack.region}:${stack.account}:inference-profile/${modelId}`,
      `arn:${stack.partition}:bedrock:*::foundation-model/${model}`,
    ],
  };
}

/** The chat widget backend. */
export class ChatWidgetStack extends Stack {
  constructor(scope: Construct, id: string, props: ChatWidgetStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const retain = !settings.dev;
    const tables = new Tables(this, 'Tables', { retainData: retain });
    const secretsPrefix = `${this.stackName}/`;
    const secrets = new Secrets(this, 'Secrets', { prefix: secretsPrefix, retain });
    const baseEnvironment = lambdaEnvironment(
      settings,
      {
        conversations: tables.conversations.tableName,
        security: tables.security.tableName,
        idempotency: tables.idempotency.tableName,
      },
      secretsPrefix,
    );
    const webhooks =
      settings.webhookUrl === undefined
        ? undefined
        : new Webhooks(this, 'Webhooks', {
            environment: baseEnvironment,
            secrets: secrets.all,
            securityTable: tables.security,
            logRetention: settings.dev ? RetentionDays.ONE_WEEK : RetentionDays.THREE_MONTHS,
            destroy: settings.dev,
          });
    const guardrail =
      settings.guardrailProvider === 'bedrock'
        ? new BedrockGuardrail(this, 'Guardrail', {
            piiEntities: settings.guardrailPiiEntities.length > 0 ? settings.guardrailPiiEntities : LOCAL_PII_ENTITIES,
            piiAction: settings.guardrailPiiAction,
            denyWords: settings.guardrailDenyWords,
            blockedMessage: settings.guardrailBlockedMessage ?? DEFAULT_BLOCKED_MESSAGE,
          })
        : undefined;
    // Every function that records security events or stores messages queues webhook events.
    const environment = {
      ...baseEnvironment,
      ...(webhooks ? { WEBHOOK_QUEUE_URL: webhooks.queue.queueUrl } : {}),
      // Every function validates the whole configuration at cold start; only the chat functions may apply it.
      ...(guardrail
        ? {
            BEDROCK_GUARDRAIL_ID: guardrail.guardrail.attrGuardrailId,
            BEDROCK_GUARDRAIL_VERSION: guardrail.version.attrVersion,
          }
        : {}),
    };
    const modelKey = settings.llmProvider === 'openai' ? secrets.addModelKey(secretsPrefix, retain) : undefined;
    const modelArns =
      settings.llmProvider === 'bedrock'
        ? bedrockModelArns(this, settings.bedrockModelId ?? DEFAULT_BEDROCK_MODEL_ID)
        : { arns: [] };
    const common: Omit<HandlerFunctionProps, 'handler'> = {
      environment,
      readSecrets: secrets.all,
      logRetention: settings.dev ? RetentionDays.ONE_WEEK : RetentionDays.THREE_MONTHS,
      destroyLogs: settings.dev,
      sendToQueues: webhooks ? [webhooks.queue] : [],
    };

    const functions = {} as Record<HandlerName, IFunction>;
    const streaming = new Set<HandlerName>(ROUTES.filter((route) => route.stream).map((route) => route.handler));
    for (const [handler, grant] of Object.entries(GRANTS) as [HandlerName, Grant][]) {
      functions[handler] = new HandlerFunction(this, `Fn-${handler}`, {
        ...common,
        handler,
        // The security table holds revocations, counters and audit events: every API function uses it.
        readWriteTables: [
          tables.security,
          ...(grant.conversations ? [tables.conversations] : []),
          ...(grant.idempotency ? [tables.idempotency] : []),
        ],
        readSecrets: [...secrets.all, ...(grant.model && modelKey ? [modelKey] : [])],
        invokeModels: grant.model ? modelArns.arns : [],
        // The chat functions count tokens (reservations, context trimming, estimated usage).
        tokenizer: grant.model === true,
        applyGuardrails: grant.model && guardrail ? [guardrail.guardrail.attrGuardrailArn] : [],
        // A streamed answer may outlive API Gateway's 29 s buffered limit, up to the model timeout.
        ...(streaming.has(handler) ? { timeout: Duration.seconds(60) } : {}),
      }).function;
    }
    const rotation = new HandlerFunction(this, 'Fn-rotate-secret', {
      ...common,
      handler: 'rotate-secret',
      readSecrets: [],
      rotateSecrets: secrets.all,
      readWriteTables: [tables.security],
      timeout: Duration.seconds(30),
    }).function;
    secrets.rotateWith(rotation, settings.rotationDays);

    const api = new Api(this, 'Api', {
      functions,
      throttleRateLimit: 200,
      throttleBurstLimit: 400,
      hsts: settings.appEnv === 'production',
      destroyLogs: settings.dev,
    });
    new Waf(this, 'Waf', {
      stage: api.api.deploymentStage,
      rateLimit: settings.wafRateLimit,
      chatRateLimit: settings.wafChatRateLimit,
      tokenRateLimit: settings.wafTokenRateLimit,
      evaluationWindowSeconds: settings.wafEvaluationWindowSeconds,
      ...(settings.visitorChallenge === 'waf'
        ? { visitorChallenge: { tokenDomains: tokenDomainsFor(settings.allowedOrigins) } }
        : {}),
      adminCidrs: settings.adminCidrs,
      destroyLogs: settings.dev,
    });
    const monitoring = new Monitoring(this, 'Monitoring', {
      api: api.api,
      webAclMetricName: 'ChatWidgetWebAcl',
      rotationFunction: rotation,
      alarmEmail: settings.alarmEmail,
      spend: {
        tokensPer5Min: settings.spendAlarmTokensPer5Min,
        deploymentBudget: settings.budgetTokensPerDay,
        priceInputPerMTok: settings.modelPriceInputPerMTok,
        priceOutputPerMTok: settings.modelPriceOutputPerMTok,
      },
    });
    webhooks?.alarmTo(monitoring.topic);

    new CfnOutput(this, 'ApiUrl', { value: api.api.url, description: 'The widget endpoint (append v1/chat, …)' });
    new CfnOutput(this, 'SecretNames', {
      value: secrets.all.map((s) => s.secretName).join(','),
      description: 'Secrets Manager names of the widget, admin and server keys and the signing secrets',
    });
    if (modelKey) {
      new CfnOutput(this, 'ModelKeySecret', {
        value: modelKey.secretName,
        description: 'Put your OpenAI-compatible API key here (not rotated by this stack)',
      });
    }
    new CfnOutput(this, 'SecretsConsole', {
      value: `https://${this.region}.console.aws.amazon.com/secretsmanager/listsecrets?region=${this.region}&search=${encodeURIComponent(secretsPrefix)}`,
      description: 'Where to read and rotate the secrets',
    });
    if (settings.widgetHosting) {
      const hosting = new WidgetHosting(this, 'WidgetHosting', { destroyOnRemoval: settings.dev });
      new CfnOutput(this, 'WidgetScriptUrl', {
        value: hosting.scriptUrl,
        description: "The widget bundle: the embed snippet's src",
      });
      acknowledgeWidgetHostingFindings(hosting);
    }
    acknowledgeFindings(this, [tables.conversations]);
  }
}
