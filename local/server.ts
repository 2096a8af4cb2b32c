/**
 * `npm start`: the same Lambda handlers behind a small HTTP server, with an embedded DynamoDB,
 * the local secret store and the echo model. Behaves as deployed; only the adapters differ.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { canonicalIp } from '../lambdas/lib/client-address.js';
import { loadDynamoDbClient } from '../lambdas/lib/clients.js';
import { loadConfig, type Config } from '../lambdas/lib/config.js';
import { EnvOverrideSource } from '../lambdas/lib/secrets/env-secrets.js';
import { SECRET_ENV } from '../lambdas/lib/secrets.js';
import { ConfigurationError } from '../lambdas/lib/errors.js';
import { createLogger, type Logger } from '../lambdas/lib/logger.js';
import {
  errorBody,
  INTERNAL_ERROR_MESSAGE,
  securityHeaderTable,
  serverErrorMessage,
} from '../lambdas/http/contract.js';
import { json } from '../lambdas/http/responses.js';
import { matchRoute } from '../lambdas/http/routes.js';
import { createRuntime } from '../lambdas/lib/runtime.js';
import { CONVERSATIONS_SCHEMA, IDEMPOTENCY_SCHEMA, SECURITY_SCHEMA } from '../lambdas/lib/stores/table-schema.js';
import { ensureTables, startDynamoDb, type EmbeddedDynamoDb } from './dynamodb.js';
import { readBody, splitTarget, toContext, toEvent, writeResult } from './event-adapter.js';
import { HANDLERS } from './handlers.js';
import { FileSecretStore, secretFilePath } from './secret-store.js';
import { widgetRoutes } from './widget-routes.js';
import { stopOnSignals } from './signals.js';

/** A running local server. */
export interface LocalServer {
  readonly url: string;
  readonly config: Config;
  /** Stops the HTTP server and everything it started. */
  close(): Promise<void>;
}

const TABLE_RETRY_MS = 1000;
/** How long the embedded engine may take to create the tables before start-up fails. */
const TABLES_READY_TIMEOUT_MS = 90_000;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The answer when the adapter itself fails: the contract's 500 with the contract's security headers. */
function lastResortResponse(config: Config): APIGatewayProxyResult {
  return json(500, errorBody('INTERNAL_ERROR', INTERNAL_ERROR_MESSAGE), {
    Vary: 'Origin',
    ...securityHeaderTable(config.production),
  });
}

/** `/health` before the tables exist: the contract's 503 with the contract's security headers. */
function notReadyResponse(config: Config): APIGatewayProxyResult {
  return json(503, errorBody('SERVICE_UNAVAILABLE', serverErrorMessage(503)), {
    Vary: 'Origin',
    'Retry-After': '1',
    ...securityHeaderTable(config.production),
  });
}

/** The table keeper: whether the tables exist, and a promise that settles once they do. */
interface TableKeeper {
  readonly ready: Promise<void>;
  isReady(): boolean;
  stop(): void;
}

/**
 * Creates the tables, retrying until the endpoint answers, as a Lambda keeps serving 503s until
 * DynamoDB is back. Ready once every table is `ACTIVE`; until then `/health` answers 503.
 */
function keepEnsuringTables(client: DynamoDBClient, config: Config, logger: Logger): TableKeeper {
  let stopped = false;
  let ready = false;
  let timer: NodeJS.Timeout | undefined;
  let markReady: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolveReady) => (markReady = resolveReady));
  const attempt = async (): Promise<void> => {
    try {
      await ensureTables(client, [
        { name: config.conversationsTable, schema: CONVERSATIONS_SCHEMA },
        { name: config.securityTable, schema: SECURITY_SCHEMA },
        { name: config.idempotencyTable, schema: IDEMPOTENCY_SCHEMA },
      ]);
      ready = true;
      markReady();
      logger.info('tables ready', {
        conversationsTable: config.conversationsTable,
        securityTable: config.securityTable,
      });
    } catch (error) {
      if (stopped) return;
      logger.warn('DynamoDB is not answering yet; requests that need it get 503 until it does', { error });
      timer = setTimeout(() => void attempt(), TABLE_RETRY_MS);
    }
  };
  void attempt();
  return {
    ready: readyPromise,
    isReady: () => ready,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Resolves when `promise` does, or rejects with `message` after `ms`. */
async function within(promise: Promise<void>, ms: number, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(message)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts the local server described by `env`. */
export async function startLocalServer(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<LocalServer> {
  // No WAF runs here: its challenge (VISITOR_CHALLENGE=waf) is stood in for by the proof of work.
  const config = loadConfig(env.VISITOR_CHALLENGE === 'waf' ? { ...env, VISITOR_CHALLENGE: 'pow' } : env);
  const logger = createLogger(config.logLevel);
  const store = new FileSecretStore(secretFilePath(config.localDataDir));
  const created = await store.ensure();

  let db: EmbeddedDynamoDb | undefined;
  const endpoint =
    config.dynamoDbEndpoint ?? (db = await startDynamoDb(config.localDynamoDb, config.localDataDir)).endpoint;
  // An external endpoint: the SDK's own credential chain when the environment has credentials,
  // else the dummy pair local engines accept.
  const credentials = db?.credentials ?? (env.AWS_ACCESS_KEY_ID === undefined ? LOCAL_CREDENTIALS : undefined);
  const region = env.AWS_REGION ?? 'us-east-1';
  const runtime = createRuntime({
    config,
    logger,
    metrics: false,
    secretSource: new EnvOverrideSource(config.secretOverrides, store),
    dynamoDbClient: await loadDynamoDbClient({ endpoint, credentials, region }),
  });
  try {
    await runtime.secrets.get();
  } catch (error) {
    await db?.stop();
    throw error;
  }
  const tableClient = new DynamoDBClient({
    endpoint,
    credentials,
    region,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 1000, requestTimeout: 5000, throwOnRequestTimeout: true }),
  });
  const tables = keepEnsuringTables(tableClient, config, logger);
  if (db) {
    // The embedded engine is ours: accept connections only once the tables exist, so a client that
    // waits for the port (or `/health`) never meets a table that is not there yet.
    const embedded = db;
    try {
      await within(
        tables.ready,
        TABLES_READY_TIMEOUT_MS,
        `DynamoDB (${embedded.engine} at ${embedded.endpoint}) did not create the tables within ${TABLES_READY_TIMEOUT_MS / 1000} s`,
      );
    } catch (error) {
      tables.stop();
      tableClient.destroy();
      await embedded.stop();
      throw error;
    }
  }

  const handlers = Object.fromEntries(
    Object.entries(HANDLERS).map(([name, defined]) => [name, defined.build(runtime)]),
  );
  const localRoutes = await widgetRoutes({ config, secrets: runtime.secrets, clock: runtime.clock });
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      // The socket may be gone once the body has been read: take the address first.
      const sourceIp = canonicalIp(req.socket.remoteAddress ?? 'unknown');
      const target = splitTarget(req.url ?? '/');
      if (await localRoutes(req, res, target)) return;
      const match = matchRoute(req.method ?? 'GET', target.path);
      // An external endpoint that is not ready yet (design §8: the server starts anyway): not healthy.
      if (match.handler === 'health' && !tables.isReady()) {
        res.writeHead(503, { ...notReady.headers, 'X-Request-Id': randomUUID() });
        res.end(notReady.body);
        return;
      }
      const body = await readBody(req);
      const handler = handlers[match.handler];
      if (!handler) throw new Error(`no handler ${match.handler}`);
      // The client hanging up before the answer is written stops the handler's work (the model call).
      const clientGone = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) clientGone.abort();
      });
      const context = toContext(match.handler, clientGone.signal);
      await writeResult(res, await handler(toEvent(req, sourceIp, target, body, match), context));
    } catch (error) {
      const requestId = randomUUID();
      logger.error('local adapter failure', { requestId, error });
      if (!res.headersSent) res.writeHead(500, { ...lastResort.headers, 'X-Request-Id': requestId });
      res.end(lastResort.body);
    }
  };
  const lastResort = lastResortResponse(config);
  const notReady = notReadyResponse(config);
  const server: Server = createServer((req, res) => void serve(req, res));
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolveListen, reject) =>
    server.once('error', reject).listen(config.port, config.host, resolveListen),
  );
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  const fromEnvironment = Object.values(SECRET_ENV).filter(
    (name) => config.secretOverrides[name].current !== undefined,
  );
  const lines = [
    `Chat widget API listening on http://${host}:${port}`,
    `  environment: ${config.appEnv}; DynamoDB: ${db ? `${db.engine}${db.persistent ? '' : ' (in memory)'}` : endpoint}`,
    `  secrets: ${resolve(store.path)}${created ? ' (created with fresh random values)' : ''}; show them with: npm run secrets -- show`,
    // Values set in the environment win over the file: say so, or the file's keys look wrong.
    ...(fromEnvironment.length === 0
      ? []
      : [`  set in the environment, used instead of the file: ${fromEnvironment.join(', ')}`]),
    ...(config.production ? [] : [`  widget demo: http://${host}:${port}/demo`]),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  return {
    url: `http://${host}:${port}`,
    config,
    close: async () => {
      tables.stop();
      runtime.webhooks?.publisher.close();
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      tableClient.destroy();
      await db?.stop();
    },
  };
}

async function main(): Promise<void> {
  let running: LocalServer;
  try {
    running = await startLocalServer();
  } catch (error) {
    process.stderr.write(
      `${error instanceof ConfigurationError ? error.message : `Could not start: ${(error as Error).message}`}\n`,
    );
    process.exit(1);
  }
  stopOnSignals(running);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void main();
}
