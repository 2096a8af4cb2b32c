/**
 * The embedded DynamoDB for local mode: DynamoDB Local (the real engine, shipped in the npm
 * package `amplify-dynamodb-simulator`) under Java, or `dynalite` when Java is missing. Both
 * listen on loopback ports; DynamoDB Local cannot bind to loopback only, so it gets a random
 * access key (it keeps one database per access key and region) and a CORS list no page matches.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { stoppedWithThisProcess } from './parent-death.js';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect, createServer, type Server } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClient,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { TableSchema } from '../lambdas/lib/stores/table-schema.js';

const require = createRequire(import.meta.url);

export type EngineMode = 'auto' | 'java' | 'dynalite' | 'memory';

/** A running embedded engine. */
export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  readonly engine: 'DynamoDB Local (Java)' | 'dynalite';
  readonly persistent: boolean;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Stops the engine and waits for it to exit. */
  stop(): Promise<void>;
}

/** True when a Java runtime answers `java -version`. */
export function hasJava(): boolean {
  try {
    return spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  } catch {
    return false;
  }
}

/** Resolves once something accepts connections on `port`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolveProbe) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolveProbe(true);
      });
      socket.once('error', () => resolveProbe(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
}

/** A port nothing listens on now (loopback). */
export async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/** A random access key, kept in the data directory when the database is persistent. */
async function accessKey(dataDir: string | undefined): Promise<string> {
  const fresh = `local${randomBytes(16).toString('hex')}`;
  if (dataDir === undefined) return fresh;
  const file = join(dataDir, 'access-key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, fresh, { mode: 0o600 });
    return fresh;
  }
}

async function startJava(dbPath: string | undefined): Promise<EmbeddedDynamoDb> {
  const emulator = join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  const port = await freePort();
  const args = ['-Djava.library.path=./DynamoDBLocal_lib', '-jar', 'DynamoDBLocal.jar', '-port', String(port)];
  args.push('-disableTelemetry', '-cors', 'https://cors.invalid');
  if (dbPath === undefined) {
    args.push('-inMemory');
  } else {
    await mkdir(dbPath, { recursive: true, mode: 0o700 });
    args.push('-dbPath', dbPath);
  }
  const [command, commandArgs] = stoppedWithThisProcess('java', args);
  const child: ChildProcess = spawn(command, commandArgs, { cwd: emulator, stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`DynamoDB Local did not start within 60 s: ${output.slice(-500)}`)),
      60_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`Port:\t${port}`) || output.includes('CorsParams')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`DynamoDB Local exited with code ${String(code)}: ${output.slice(-500)}`));
    });
  });
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  child.stderr?.resume();
  await waitForPort(port, 30_000);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    engine: 'DynamoDB Local (Java)',
    persistent: dbPath !== undefined,
    credentials: { accessKeyId: await accessKey(dbPath), secretAccessKey: 'local' },
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function startDynalite(path: string | undefined): Promise<EmbeddedDynamoDb> {
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  if (path !== undefined) await mkdir(path, { recursive: true, mode: 0o700 });
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(path === undefined ? {} : { path }),
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('dynalite did not report its port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    engine: 'dynalite',
    persistent: path !== undefined,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Starts the engine `mode` asks for; `auto` prefers DynamoDB Local when Java is present. */
export async function startDynamoDb(mode: EngineMode, dataDir: string): Promise<EmbeddedDynamoDb> {
  const java = mode === 'java' || ((mode === 'auto' || mode === 'memory') && hasJava());
  if (mode === 'java' && !hasJava()) {
    throw new Error(
      'LOCAL_DYNAMODB=java needs a Java runtime (17 or newer) on PATH; install one or use LOCAL_DYNAMODB=dynalite',
    );
  }
  const persistent = mode !== 'memory';
  if (java) return startJava(persistent ? resolve(dataDir, 'dynamodb') : undefined);
  return startDynalite(persistent ? join(dataDir, 'dynalite') : undefined);
}

/** The CreateTable input for `schema`: on-demand, string keys, its GSIs projecting everything. */
function createTableInput(tableName: string, schema: TableSchema): CreateTableCommandInput {
  const attributes = new Set<string>([schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])]);
  for (const index of schema.indexes) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: schema.partitionKey, KeyType: 'HASH' },
      ...(schema.sortKey ? [{ AttributeName: schema.sortKey, KeyType: 'RANGE' as const }] : []),
    ],
    ...(schema.indexes.length === 0
      ? {}
      : {
          GlobalSecondaryIndexes: schema.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
              { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
            ],
            Projection: { ProjectionType: 'ALL' as const },
          })),
        }),
  };
}

/** How long a table may stay `CREATING` before table creation counts as failed. */
const TABLE_ACTIVE_WAIT_SECONDS = 60;

/**
 * Creates each table that does not exist yet, waits until every table is `ACTIVE` (a table still
 * being created refuses reads and writes), and turns on TTL where the engine supports it.
 */
export async function ensureTables(
  client: DynamoDBClient,
  tables: ReadonlyArray<{ name: string; schema: TableSchema }>,
): Promise<void> {
  for (const { name, schema } of tables) {
    let exists = true;
    try {
      await client.send(new DescribeTableCommand({ TableName: name }));
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      exists = false;
    }
    if (!exists) {
      try {
        await client.send(new CreateTableCommand(createTableInput(name, schema)));
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
    }
    await waitUntilTableExists(
      { client, maxWaitTime: TABLE_ACTIVE_WAIT_SECONDS, minDelay: 1, maxDelay: 2 },
      { TableName: name },
    );
    if (exists) continue;
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: schema.ttlAttribute, Enabled: true },
        }),
      );
    } catch {
      // dynalite has no TTL API; expiry is compared in code anyway.
    }
  }
}
