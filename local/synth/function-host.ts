/**
 * One Lambda function's process for `start:synth`: loads the synthesized bundle as the Node.js
 * Lambda runtime would (its `Handler`, its environment, `awslambda.streamifyResponse` provided
 * before the module loads) and runs the invocations the parent sends over IPC. Streamed bytes go
 * back untouched, prelude and delimiter included, for the parent to split as API Gateway does.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

/** What the parent sends. */
export type HostRequest =
  | { readonly type: 'invoke'; readonly id: number; readonly event: unknown; readonly timeoutMs: number }
  | { readonly type: 'abort'; readonly id: number };

/** What this process answers. */
export type HostReply =
  | { readonly type: 'result'; readonly id: number; readonly result: unknown }
  | { readonly type: 'error'; readonly id: number; readonly errorType: string }
  | { readonly type: 'chunk'; readonly id: number; readonly data: string }
  | { readonly type: 'end'; readonly id: number };

/** The bytes between the HTTP prelude and the body of a streamed response (Lambda's own delimiter). */
export const PRELUDE_DELIMITER = Buffer.alloc(8);

const streaming = new WeakSet<object>();
type StreamHandler = (event: unknown, stream: Writable, context: Context) => Promise<unknown>;

/** The part of the Lambda runtime's `awslambda` global that response streaming uses. */
const awslambda = {
  streamifyResponse(handler: StreamHandler): StreamHandler {
    streaming.add(handler);
    return handler;
  },
  HttpResponseStream: {
    /** As the runtime does: the prelude as JSON, then eight NUL bytes, then the body. */
    from(stream: Writable, prelude: unknown): Writable {
      stream.write(Buffer.concat([Buffer.from(JSON.stringify(prelude)), PRELUDE_DELIMITER]));
      return stream;
    },
  },
};
(globalThis as { awslambda?: unknown }).awslambda = awslambda;

const send = (reply: HostReply) => process.send?.(reply);
const [file, exported] = (() => {
  const handler = process.env._HANDLER ?? 'index.handler';
  const at = handler.lastIndexOf('.');
  return [handler.slice(0, at), handler.slice(at + 1)];
})();
let loaded: Promise<(...args: unknown[]) => Promise<unknown>> | undefined;

/** Imports the bundle once, as the runtime does at init (`index` → `index.mjs` or `index.js`). */
async function load(): Promise<(...args: unknown[]) => Promise<unknown>> {
  const root = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(join(root, `${file}.mjs`)).href)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    module = (await import(pathToFileURL(join(root, `${file}.js`)).href)) as Record<string, unknown>;
  }
  const handler = module[exported];
  if (typeof handler !== 'function') throw new Error(`${file}.${exported} is not a function`);
  return handler as (...args: unknown[]) => Promise<unknown>;
}

function contextFor(timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? 'us-east-1'}:000000000000:function:${name}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const open = new Map<number, Writable>();

async function invoke(id: number, event: unknown, timeoutMs: number): Promise<void> {
  try {
    loaded ??= load();
    const handler = await loaded;
    const context = contextFor(timeoutMs);
    if (!streaming.has(handler)) {
      send({ type: 'result', id, result: await handler(event, context) });
      return;
    }
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        send({ type: 'chunk', id, data: chunk.toString('base64') });
        done();
      },
      final(done) {
        send({ type: 'end', id });
        done();
      },
    });
    open.set(id, stream);
    await handler(event, stream, context);
    if (!stream.writableFinished && !stream.destroyed) stream.end();
  } catch (error) {
    // The error type only, as Lambda reports it to API Gateway; the details go to this function's log.
    process.stderr.write(`invocation failed: ${(error as Error).stack ?? String(error)}\n`);
    send({ type: 'error', id, errorType: (error as Error).name ?? 'Error' });
  } finally {
    open.delete(id);
  }
}

process.on('message', (message: HostRequest) => {
  if (message.type === 'invoke') void invoke(message.id, message.event, message.timeoutMs);
  else open.get(message.id)?.destroy(new Error('the client went away'));
});
process.on('disconnect', () => process.exit(0));
