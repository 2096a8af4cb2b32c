/**
 * The one place every Lambda is built: Node.js 24 on arm64, an ESM bundle (esbuild, minified,
 * with source maps), X-Ray tracing, its own log group with retention, the Powertools
 * environment, and only the grants its props name. Least privilege is visible here and in the
 * stack's calls, nowhere else.
 */
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { HandlerName } from '../../lambdas/http/routes.js';

/** Props of `HandlerFunction`. */
export interface HandlerFunctionProps {
  /** The entry file under `lambdas/handlers/` (without `.ts`). */
  readonly handler: HandlerName | 'rotate-secret' | 'deliver-webhook';
  /** Environment variables (validated by the caller). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Tables the function reads and writes.
   * @default none
   */
  readonly readWriteTables?: readonly ITable[];
  /**
   * Secrets the function reads (current and previous versions).
   * @default none
   */
  readonly readSecrets?: readonly ISecret[];
  /**
   * Secrets the function rotates (describe, read, put a pending version, move stages).
   * @default none
   */
  readonly rotateSecrets?: readonly ISecret[];
  /**
   * Queues the function sends messages to (the webhook queue).
   * @default none
   */
  readonly sendToQueues?: readonly IQueue[];
  /**
   * Bedrock model (or inference profile) ARNs the function may invoke, streamed or not.
   * @default none
   */
  readonly invokeModels?: readonly string[];
  /**
   * Ship the BPE tokenizer's rank table next to the bundle (the chat functions count tokens).
   * @default false
   */
  readonly tokenizer?: boolean;
  /**
   * Bedrock guardrail ARNs the function may apply (`bedrock:ApplyGuardrail`).
   * @default none
   */
  readonly applyGuardrails?: readonly string[];
  /**
   * Memory in MiB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Timeout.
   * @default 29 seconds (API Gateway's integration timeout)
   */
  readonly timeout?: Duration;
  /**
   * Log retention.
   * @default one month
   */
  readonly logRetention?: RetentionDays;
  /**
   * Delete the log group with the stack.
   * @default false
   */
  readonly destroyLogs?: boolean;
}

/**
 * How every function is bundled (`npm run bench` bundles with these same options to report sizes).
 * Only `@aws-sdk/*` is external: the Node.js 24 runtime ships AWS SDK v3. Nothing else is, on
 * purpose: `@smithy/*` sits inside the runtime's SDK as a private dependency at whatever version
 * it pins, so importing it from there would tie this code to a layout AWS does not document, and
 * Powertools is not in the runtime at all (it is a layer). Size comes from tree-shaking instead
 * (zod is imported as a namespace for that; see eslint.config.js).
 */
export const HANDLER_BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node24',
  minify: true,
  sourceMap: true,
  mainFields: ['module', 'main'],
  // ESM bundles still meet CommonJS dependencies that call require().
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  // The tokenizer's rank table (about 1 MB) is imported on first use only; it stays out of every
  // bundle, and the chat functions get it as a module of its own (`TOKENIZER_HOOKS`).
  externalModules: ['@aws-sdk/*', 'gpt-tokenizer'],
};

/** The one encoding `lambdas/lib/llm/tokenizer.ts` imports. */
export const TOKENIZER_ENCODING = 'gpt-tokenizer/encoding/cl100k_base';

/**
 * Bundles the encoding (ESM, minified) into the function's `node_modules/gpt-tokenizer/`, with a
 * package.json exporting just that entry, so the lazy `import()` resolves it at run time.
 */
export const TOKENIZER_HOOKS: ICommandHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (inputDir: string, outputDir: string) => {
    const out = `${outputDir}/node_modules/gpt-tokenizer`;
    const manifest = JSON.stringify({
      name: 'gpt-tokenizer',
      type: 'module',
      exports: { './encoding/cl100k_base': './encoding/cl100k_base.js' },
    });
    return [
      `"${inputDir}/node_modules/.bin/esbuild" "${inputDir}/node_modules/gpt-tokenizer/esm/encoding/cl100k_base.js" --bundle --minify --format=esm --platform=node --log-level=error --outfile="${out}/encoding/cl100k_base.js"`,
      `node -e "require('fs').writeFileSync(process.argv[1], process.argv[2])" "${out}/package.json" '${manifest}'`,
    ];
  },
};

const HANDLERS_DIR = fileURLToPath(new URL('../../lambdas/handlers/', import.meta.url));

/** One Lambda function of the service. */
export class HandlerFunction extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.destroyLogs ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${HANDLERS_DIR}${props.handler}.ts`,
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(29),
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'chat-widget',
        POWERTOOLS_METRICS_NAMESPACE: 'ChatWidget',
        ...props.environment,
      },
      bundling: props.tokenizer ? { ...HANDLER_BUNDLING, commandHooks: TOKENIZER_HOOKS } : HANDLER_BUNDLING,
    });
    for (const table of props.readWriteTables ?? []) table.grantReadWriteData(this.function);
    for (const secret of props.readSecrets ?? []) secret.grantRead(this.function);
    for (const queue of props.sendToQueues ?? []) queue.grantSendMessages(this.function);
    if ((props.readSecrets ?? []).length > 0) {
      // BatchGetSecretValue has no resource-level permissions; each secret is still checked
      // against the GetSecretValue grants above.
      this.function.addToRolePolicy(
        new PolicyStatement({ actions: ['secretsmanager:BatchGetSecretValue'], resources: ['*'] }),
      );
    }
    if ((props.invokeModels ?? []).length > 0) {
      this.function.addToRolePolicy(
        new PolicyStatement({
          actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
          resources: [...(props.invokeModels ?? [])],
        }),
      );
    }
    if ((props.applyGuardrails ?? []).length > 0) {
      this.function.addToRolePolicy(
        new PolicyStatement({ actions: ['bedrock:ApplyGuardrail'], resources: [...(props.applyGuardrails ?? [])] }),
      );
    }
    for (const secret of props.rotateSecrets ?? []) {
      secret.grantRead(this.function);
      secret.grantWrite(this.function);
      this.function.addToRolePolicy(
        new PolicyStatement({
          actions: ['secretsmanager:DescribeSecret', 'secretsmanager:UpdateSecretVersionStage'],
          resources: [secret.secretArn],
        }),
      );
    }
  }
}
