/**
 * `npm run start:synth`: serves the synthesized stack locally. It synthesizes the app (or takes
 * `SYNTH_TEMPLATE`), reads the template, creates its tables in DynamoDB Local and its secrets and
 * queues in `moto_server`, runs each function's bundle in its own Node process with the template's
 * environment, and answers HTTP as API Gateway's REST API would: the template's resource tree and
 * methods, REST proxy events, `STREAM` responses, and the template's gateway responses.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  GetRandomPasswordCommand,
  SecretsManagerClient,
  type GetRandomPasswordCommandInput,
} from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyResult, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SECRET_ENV, SECRET_NAMES, type SecretName } from '../../lambdas/lib/secrets.js';
import { startDynamoDb } from '../dynamodb.js';
import { MAX_REQUEST_BYTES, readBody, splitTarget, toEvent, writeResult } from '../event-adapter.js';
import { PRELUDE_DELIMITER } from './function-host.js';
import { InvocationError, LambdaProcess } from './lambda-process.js';
import { startMoto } from './moto.js';
import { standInForWaf } from './stand-ins.js';
import { matchResource, readApiModel, resolveValue, type ApiModel, type LocalResources } from './template.js';
import { stopOnSignals } from '../signals.js';

const REGION = 'us-east-1';
/** moto's default account, which it puts in the ARNs it returns. */
const ACCOUNT_ID = '123456789012';
/** API Gateway's integration timeout for buffered (non-streamed) responses. */
const INTEGRATION_TIMEOUT_MS = 29_000;

export interface SynthServerOptions {
  /** The synthesized template; its assets sit next to it. */
  readonly templatePath: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** The stack's name (`AWS::StackName`, the prefix of local physical names). @default ChatWidget */
  readonly stackName?: string;
  /** Added to every function's environment after the template's (test knobs such as limits). */
  readonly functionEnv?: Readonly<Record<string, string>>;
  /** Initial values of the service's secrets, by name; others come from `GenerateSecretString`. */
  readonly secretValues?: Readonly<Partial<Record<SecretName, string>>>;
  /** Where everything printed goes. @default stdout */
  readonly onOutput?: (text: string) => void;
}

/** A running synthesized API. */
export interface SynthServer {
  readonly url: string;
  readonly model: ApiModel;
  /** moto's endpoint (Secrets Manager, SQS) and DynamoDB Local's, with the credentials both accept. */
  readonly endpoints: { readonly moto: string; readonly dynamoDb: string; readonly lambdaInvoke: string };
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Secret id (ARN) by the secret's name in the template. */
  readonly secretIds: ReadonlyMap<string, string>;
  /** Every function, by logical id, to invoke directly. */
  readonly functions: ReadonlyMap<string, LambdaProcess>;
  close(): Promise<void>;
}

/** The name a secret's template `Name` ends with, when it is one of the service's. */
function serviceSecretName(name: string): SecretName | undefined {
  return SECRET_NAMES.find((candidate) => name === candidate || name.endsWith(`/${candidate}`));
}

/** Seeds from the environment, as `npm start` reads its overrides (`WIDGET_API_KEY`, …). */
function secretValuesFromEnv(env: NodeJS.ProcessEnv): Partial<Record<SecretName, string>> {
  const out: Partial<Record<SecretName, string>> = {};
  for (const name of SECRET_NAMES) {
    const value = env[SECRET_ENV[name]];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

/** The CreateTable input for a template table: keys, indexes and billing; encryption and backups do not apply locally. */
function createTableInput(name: string, props: Readonly<Record<string, unknown>>): CreateTableCommandInput {
  const onDemand = (indexes: unknown) =>
    Array.isArray(indexes)
      ? indexes.map((index: Record<string, unknown>) => {
          // Capacity settings mean nothing on demand (and DynamoDB Local refuses them with PAY_PER_REQUEST).
          const rest = { ...index };
          delete rest.ProvisionedThroughput;
          delete rest.ContributorInsightsSpecification;
          return rest;
        })
      : undefined;
  return {
    TableName: name,
    AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
    BillingMode: 'PAY_PER_REQUEST',
    ...(props.GlobalSecondaryIndexes
      ? {
          GlobalSecondaryIndexes: onDemand(
            props.GlobalSecondaryIndexes,
          ) as CreateTableCommandInput['GlobalSecondaryIndexes'],
        }
      : {}),
    ...(props.LocalSecondaryIndexes
      ? { LocalSecondaryIndexes: props.LocalSecondaryIndexes as CreateTableCommandInput['LocalSecondaryIndexes'] }
      : {}),
  };
}

/** GetRandomPassword's input from a template's `GenerateSecretString`. */
function passwordInput(generate: Readonly<Record<string, unknown>>): GetRandomPasswordCommandInput {
  const pick = <K extends keyof GetRandomPasswordCommandInput>(key: K) =>
    generate[key] === undefined ? {} : { [key]: generate[key] };
  return {
    ...pick('PasswordLength'),
    ...pick('ExcludeCharacters'),
    ...pick('ExcludeNumbers'),
    ...pick('ExcludePunctuation'),
    ...pick('ExcludeUppercase'),
    ...pick('ExcludeLowercase'),
    ...pick('IncludeSpace'),
    ...pick('RequireEachIncludedType'),
  };
}

/** Starts everything the template needs and serves it; `close()` stops all of it. */
export async function startSynthServer(options: SynthServerOptions): Promise<SynthServer> {
  const print = options.onOutput ?? ((text: string) => process.stdout.write(text));
  const stackName = options.stackName ?? 'ChatWidget';
  const model = await readApiModel(options.templatePath);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const dataDir = await mkdtemp(join(tmpdir(), 'chat-widget-synth-'));
    stops.push(() => rm(dataDir, { recursive: true, force: true }));
    // Lambda's Invoke API on its own loopback port (never on the API's): how moto's RotateSecret
    // reaches the rotation function, and how an operator or a test invokes any function directly.
    const functions = new Map<string, LambdaProcess>();
    const invokeServer = createInvokeServer(functions, stackName);
    stops.push(
      () =>
        new Promise<void>((resolveClose) => {
          invokeServer.close(() => resolveClose());
          invokeServer.closeAllConnections();
        }),
    );
    await new Promise<void>((resolveListen, reject) =>
      invokeServer.once('error', reject).listen(0, '127.0.0.1', resolveListen),
    );
    const invokeUrl = `http://127.0.0.1:${(invokeServer.address() as { port: number }).port}`;
    // Both at once (each takes seconds); whichever started is stopped if the other fails.
    const [motoStart, dbStart] = await Promise.allSettled([startMoto(invokeUrl), startDynamoDb('memory', dataDir)]);
    if (motoStart.status === 'fulfilled') stops.push(() => motoStart.value.stop());
    if (dbStart.status === 'fulfilled') stops.push(() => dbStart.value.stop());
    if (motoStart.status === 'rejected') throw motoStart.reason;
    if (dbStart.status === 'rejected') throw dbStart.reason;
    const moto = motoStart.value;
    const db = dbStart.value;
    const credentials = db.credentials;
    const clientConfig = { region: REGION, credentials };
    const dynamo = new DynamoDBClient({ ...clientConfig, endpoint: db.endpoint });
    const secretsManager = new SecretsManagerClient({ ...clientConfig, endpoint: moto.endpoint });
    const sqs = new SQSClient({ ...clientConfig, endpoint: moto.endpoint });
    stops.push(async () => {
      dynamo.destroy();
      secretsManager.destroy();
      sqs.destroy();
    });

    const refs = new Map<string, string>();
    const attributes = new Map<string, Record<string, string>>();
    const local: LocalResources = { region: REGION, accountId: ACCOUNT_ID, stackName, refs, attributes };
    const physicalName = (logicalId: string, declared: unknown) =>
      declared === undefined ? `${stackName}-${logicalId}` : resolveValue(declared as never, local, logicalId);

    for (const { logicalId, properties } of model.tables) {
      const name = physicalName(logicalId, properties.TableName);
      await dynamo.send(new CreateTableCommand(createTableInput(name, properties)));
      const ttl = properties.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
      if (ttl?.Enabled && ttl.AttributeName) {
        await dynamo.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
          }),
        );
      }
      refs.set(logicalId, name);
      attributes.set(logicalId, { Arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/${name}` });
    }

    const seeds = { ...secretValuesFromEnv(process.env), ...options.secretValues };
    const secretIds = new Map<string, string>();
    for (const { logicalId, properties } of model.secrets) {
      const name = physicalName(logicalId, properties.Name);
      const generate = properties.GenerateSecretString as Record<string, unknown> | undefined;
      const service = serviceSecretName(name);
      let value = service === undefined ? undefined : seeds[service];
      if (value === undefined && typeof properties.SecretString === 'string') value = properties.SecretString;
      if (value === undefined && generate?.GenerateStringKey !== undefined) {
        throw new Error(`secret ${logicalId}: JSON secrets (GenerateStringKey) are not generated locally`);
      }
      value ??= (await secretsManager.send(new GetRandomPasswordCommand(passwordInput(generate ?? {})))).RandomPassword;
      const created = await secretsManager.send(new CreateSecretCommand({ Name: name, SecretString: value }));
      refs.set(logicalId, created.ARN as string);
      attributes.set(logicalId, { Id: created.ARN as string });
      secretIds.set(name, created.ARN as string);
    }

    // Dead-letter queues first: a queue's redrive policy names its DLQ's ARN.
    const queues = [...model.queues].sort(
      (a, b) => Number(a.properties.RedrivePolicy !== undefined) - Number(b.properties.RedrivePolicy !== undefined),
    );
    for (const { logicalId, properties } of queues) {
      const name = physicalName(logicalId, properties.QueueName);
      const queueAttributes: Record<string, string> = {};
      for (const key of [
        'VisibilityTimeout',
        'MessageRetentionPeriod',
        'DelaySeconds',
        'ReceiveMessageWaitTimeSeconds',
      ]) {
        const value = properties[key];
        if (typeof value === 'string' || typeof value === 'number') queueAttributes[key] = String(value);
      }
      const redrive = properties.RedrivePolicy as Record<string, unknown> | undefined;
      if (redrive) {
        queueAttributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: resolveValue(redrive.deadLetterTargetArn as never, local, logicalId),
          maxReceiveCount: redrive.maxReceiveCount,
        });
      }
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: queueAttributes }));
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      refs.set(logicalId, QueueUrl as string);
      attributes.set(logicalId, { Arn: Attributes?.QueueArn as string, QueueName: name, QueueUrl: QueueUrl as string });
    }

    for (const id of Object.keys(model.functions)) {
      const name = `${stackName}-${id}`;
      refs.set(id, name);
      attributes.set(id, { Arn: `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}` });
    }

    // Every environment is resolved now, so a reference with no local counterpart stops the start.
    for (const spec of Object.values(model.functions)) {
      const environment = Object.fromEntries(
        Object.entries(spec.environment).map(([key, value]) => [
          key,
          resolveValue(value, local, `${spec.logicalId} ${key}`),
        ]),
      );
      const name = `${stackName}-${spec.logicalId}`;
      functions.set(
        spec.logicalId,
        new LambdaProcess({
          name: spec.logicalId,
          assetDir: spec.assetDir,
          timeoutMs: spec.timeoutSeconds * 1000,
          onOutput: print,
          env: {
            // The variables the Lambda runtime sets, then the template's, then the local endpoints.
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            TZ: ':UTC',
            LANG: 'en_US.UTF-8',
            AWS_REGION: REGION,
            AWS_DEFAULT_REGION: REGION,
            AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
            AWS_LAMBDA_FUNCTION_NAME: name,
            AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
            AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
            LAMBDA_TASK_ROOT: spec.assetDir,
            _HANDLER: spec.handler,
            ...standInForWaf({ ...environment, ...options.functionEnv }),
            AWS_ACCESS_KEY_ID: credentials.accessKeyId,
            AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
            AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
            AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
            AWS_ENDPOINT_URL_SQS: moto.endpoint,
          },
        }),
      );
    }
    stops.push(async () => {
      await Promise.all([...functions.values()].map((fn) => fn.stop()));
    });

    const stopConsumers = startQueueConsumers(model, functions, sqs, refs, print);
    stops.push(async () => stopConsumers());

    const server = createApiServer(model, functions, print);
    stops.push(
      () =>
        new Promise<void>((resolveClose) => {
          server.close(() => resolveClose());
          server.closeAllConnections();
        }),
    );
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolveListen, reject) =>
      server.once('error', reject).listen(options.port ?? 0, host, resolveListen),
    );
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const routes = model.resources.reduce((n, r) => n + Object.keys(r.methods).length, 0);
    print(
      `Synthesized chat widget API listening on ${url}\n` +
        `  template: ${options.templatePath}\n` +
        `  ${Object.keys(model.functions).length} functions, ${routes} methods, stage ${model.stage}; ` +
        `DynamoDB Local ${db.endpoint}; moto (Secrets Manager, SQS) ${moto.endpoint}; Lambda Invoke ${invokeUrl}\n`,
    );
    return {
      url,
      model,
      endpoints: { moto: moto.endpoint, dynamoDb: db.endpoint, lambdaInvoke: invokeUrl },
      credentials,
      secretIds,
      functions,
      close: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Lambda's `Invoke` (`POST /2015-03-31/functions/{name}/invocations`, name or ARN): the result as
 * the body, or `X-Amz-Function-Error: Unhandled` with the error type, as Lambda answers.
 */
function createInvokeServer(functions: ReadonlyMap<string, LambdaProcess>, stackName: string): Server {
  return createServer((req, res) => {
    void (async () => {
      const name = decodeURIComponent(/^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '')?.[1] ?? '');
      const id = name.split(':').pop()?.replace(`${stackName}-`, '') ?? '';
      const fn = functions.get(id);
      const body = await readBody(req);
      if (req.method !== 'POST' || !fn) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"Type":"ResourceNotFoundException"}');
        return;
      }
      const result = await fn.invoke(body.length === 0 ? {} : JSON.parse(body.toString('utf8')));
      if (result instanceof InvocationError) {
        res.writeHead(200, { 'X-Amz-Function-Error': 'Unhandled', 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errorType: result.kind, errorMessage: result.message }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(result ?? null));
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
}

/** A response API Gateway writes itself, from the template's gateway response for `type`. */
function gatewayResponse(model: ApiModel, type: string, defaultStatus: number): APIGatewayProxyResult {
  const family = defaultStatus >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX';
  const spec = model.gatewayResponses[type] ?? model.gatewayResponses[family];
  return {
    statusCode: model.gatewayResponses[type]?.statusCode ?? defaultStatus,
    headers: {
      'Content-Type': 'application/json',
      ...spec?.headers,
      'x-amzn-RequestId': randomUUID(),
      'x-amzn-ErrorType': type,
    },
    body: spec?.body ?? JSON.stringify({ message: type }),
  };
}

/** True when `result` is what API Gateway accepts from a proxy integration. */
function isProxyResult(result: unknown): result is APIGatewayProxyResult {
  const r = result as Partial<APIGatewayProxyResult> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    Number.isInteger(r.statusCode) &&
    (r.body === undefined || typeof r.body === 'string')
  );
}

function createApiServer(
  model: ApiModel,
  functions: ReadonlyMap<string, LambdaProcess>,
  print: (text: string) => void,
): Server {
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const sourceIp = req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown';
    const target = splitTarget(req.url ?? '/');
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    if (body.length > MAX_REQUEST_BYTES) {
      await writeResult(res, gatewayResponse(model, 'REQUEST_TOO_LARGE', 413));
      return;
    }
    const found = matchResource(model.resources, target.path);
    const integration = found ? (found.resource.methods[method] ?? found.resource.methods.ANY) : undefined;
    if (!found || !integration) {
      // No resource, or no method on it: API Gateway's "Missing Authentication Token".
      await writeResult(res, gatewayResponse(model, 'MISSING_AUTHENTICATION_TOKEN', 403));
      return;
    }
    const fn = functions.get(integration.functionId) as LambdaProcess;
    const event = toEvent(req, sourceIp, target, body, {
      handler: 'route-fallback',
      resource: found.resource.path,
      pathParameters: found.pathParameters,
    });
    const stageEvent = {
      ...event,
      // API Gateway's requestContext.path carries the stage (the URL's), `path` does not.
      requestContext: {
        ...event.requestContext,
        stage: model.stage,
        path: `/${model.stage}${event.path}`,
      },
    };
    if (integration.stream) {
      streamResponse(model, fn, stageEvent, res);
      return;
    }
    const result = await Promise.race([
      fn.invoke(stageEvent),
      new Promise((resolveTimeout) =>
        setTimeout(() => resolveTimeout(new InvocationError('timeout', 'integration')), INTEGRATION_TIMEOUT_MS).unref(),
      ),
    ]);
    if (result instanceof InvocationError) {
      print(`[gateway] ${method} ${found.resource.path}: ${result.message}\n`);
      const timeout = result.kind === 'timeout';
      await writeResult(
        res,
        gatewayResponse(model, timeout ? 'INTEGRATION_TIMEOUT' : 'DEFAULT_5XX', timeout ? 504 : 502),
      );
      return;
    }
    if (!isProxyResult(result)) {
      print(`[gateway] ${method} ${found.resource.path}: malformed Lambda proxy response\n`);
      await writeResult(res, gatewayResponse(model, 'DEFAULT_5XX', 502));
      return;
    }
    await writeResult(res, { ...result, headers: { ...result.headers, 'x-amzn-RequestId': randomUUID() } });
  };
  return createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      print(`[gateway] adapter failure: ${(error as Error).message}\n`);
      if (!res.headersSent) {
        const fallback = gatewayResponse(model, 'DEFAULT_5XX', 500);
        res.writeHead(fallback.statusCode, fallback.headers as Record<string, string>);
        res.end(fallback.body);
      } else {
        res.destroy();
      }
    });
  });
}

/**
 * A `STREAM` integration: the function's bytes are the HTTP prelude (JSON), eight NUL bytes, then
 * the body, sent on as they come. A client that goes away aborts the invocation.
 */
function streamResponse(model: ApiModel, fn: LambdaProcess, event: unknown, res: ServerResponse): void {
  let buffered = Buffer.alloc(0);
  let started = false;
  const abort = fn.invokeStream(event, {
    chunk(data) {
      if (started) {
        res.write(data);
        return;
      }
      buffered = Buffer.concat([buffered, data]);
      const at = buffered.indexOf(PRELUDE_DELIMITER);
      if (at < 0) return;
      const prelude = JSON.parse(buffered.subarray(0, at).toString('utf8')) as {
        statusCode?: number;
        headers?: Record<string, string>;
        cookies?: string[];
      };
      started = true;
      res.writeHead(prelude.statusCode ?? 200, { ...prelude.headers, 'x-amzn-RequestId': randomUUID() });
      res.flushHeaders();
      const rest = buffered.subarray(at + PRELUDE_DELIMITER.length);
      if (rest.length > 0) res.write(rest);
    },
    end() {
      if (!started) {
        const failed = gatewayResponse(model, 'DEFAULT_5XX', 502);
        res.writeHead(failed.statusCode, failed.headers as Record<string, string>).end(failed.body);
        return;
      }
      res.end();
    },
    fail(error) {
      if (started) {
        res.destroy();
        return;
      }
      const timeout = error.kind === 'timeout';
      const failed = gatewayResponse(model, timeout ? 'INTEGRATION_TIMEOUT' : 'DEFAULT_5XX', timeout ? 504 : 502);
      res.writeHead(failed.statusCode, failed.headers as Record<string, string>).end(failed.body);
    },
  });
  res.once('close', () => {
    if (!res.writableFinished) abort();
  });
}

/** Polls each queue an event source mapping names and invokes its function with SQS batches, as Lambda does. */
function startQueueConsumers(
  model: ApiModel,
  functions: ReadonlyMap<string, LambdaProcess>,
  sqs: SQSClient,
  refs: ReadonlyMap<string, string>,
  print: (text: string) => void,
): () => void {
  let stopped = false;
  for (const consumer of model.queueConsumers) {
    const queueUrl = refs.get(consumer.queueId) as string;
    const fn = functions.get(consumer.functionId) as LambdaProcess;
    const poll = async (): Promise<void> => {
      while (!stopped) {
        try {
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl,
              MaxNumberOfMessages: Math.min(10, consumer.batchSize),
              WaitTimeSeconds: 1,
              MessageSystemAttributeNames: ['All'],
            }),
          );
          if (Messages.length === 0 || stopped) continue;
          const event: SQSEvent = {
            Records: Messages.map((m) => ({
              messageId: m.MessageId as string,
              receiptHandle: m.ReceiptHandle as string,
              body: m.Body ?? '',
              attributes: (m.Attributes ?? {}) as never,
              messageAttributes: {},
              md5OfBody: m.MD5OfBody ?? '',
              eventSource: 'aws:sqs',
              eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${queueUrl.split('/').pop() ?? ''}`,
              awsRegion: REGION,
            })),
          };
          const result = await fn.invoke(event);
          if (result instanceof InvocationError) continue; // all stay; they come back after the visibility timeout
          const failed = new Set(
            consumer.reportBatchItemFailures
              ? ((result as SQSBatchResponse | undefined)?.batchItemFailures ?? []).map((f) => f.itemIdentifier)
              : [],
          );
          const done = Messages.filter((m) => !failed.has(m.MessageId as string));
          if (done.length > 0) {
            await sqs.send(
              new DeleteMessageBatchCommand({
                QueueUrl: queueUrl,
                Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })),
              }),
            );
          }
        } catch (error) {
          if (!stopped) print(`[queue] ${consumer.queueId}: ${(error as Error).message}\n`);
          await new Promise((wait) => setTimeout(wait, 1000));
        }
      }
    };
    void poll();
  }
  return () => {
    stopped = true;
  };
}

async function main(): Promise<void> {
  const { cachedSynth } = await import('../../scripts/synth.js');
  let templatePath = process.env.SYNTH_TEMPLATE;
  if (templatePath === undefined) {
    process.stdout.write('synthesizing the app (reused while no source changes)…\n');
    templatePath = await cachedSynth();
  }
  const functionEnv = process.env.SYNTH_FUNCTION_ENV
    ? (JSON.parse(process.env.SYNTH_FUNCTION_ENV) as Record<string, string>)
    : undefined;
  const running = await startSynthServer({
    templatePath: resolve(templatePath),
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST ?? '127.0.0.1',
    ...(functionEnv ? { functionEnv } : {}),
  });
  stopOnSignals(running);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`Could not start: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
