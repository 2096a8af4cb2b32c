import { PassThrough, Readable, Writable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { streamingLambda, type StreamingResult } from '../../../lambdas/http/streaming.js';

/** The part of the Node.js Lambda runtime's `awslambda` global that streaming uses, recording preludes. */
function installLambdaRuntime(): { preludes: unknown[]; uninstall: () => void } {
  const preludes: unknown[] = [];
  const global = globalThis as { awslambda?: unknown };
  const previous = global.awslambda;
  global.awslambda = {
    streamifyResponse: (handler: unknown) => handler,
    HttpResponseStream: {
      from: (stream: Writable, prelude: unknown) => {
        preludes.push(prelude);
        return stream;
      },
    },
  };
  return { preludes, uninstall: () => (global.awslambda = previous) };
}

const event = {} as APIGatewayProxyEvent;
const context = {} as Context;

describe('streamingLambda', () => {
  let runtime: ReturnType<typeof installLambdaRuntime>;
  beforeEach(() => (runtime = installLambdaRuntime()));
  afterEach(() => runtime.uninstall());

  it('It should send the status and headers as the prelude, then pipe the body', async () => {
    const handler = streamingLambda(async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'text/event-stream' },
      body: Readable.from(['data: 1\n\n', 'data: 2\n\n']),
    }));
    const out = new PassThrough();
    const received = text(out);

    await handler(event, out as never, context);

    expect(runtime.preludes).toEqual([{ statusCode: 200, headers: { 'Content-Type': 'text/event-stream' } }]);
    await expect(received).resolves.toBe('data: 1\n\ndata: 2\n\n');
  });

  it('It should write a JSON error answer whole', async () => {
    const handler = streamingLambda(async () => ({ statusCode: 401, headers: {}, body: '{"error":{}}' }));
    const out = new PassThrough();
    const received = text(out);
    await handler(event, out as never, context);
    expect(runtime.preludes).toEqual([{ statusCode: 401, headers: {} }]);
    await expect(received).resolves.toBe('{"error":{}}');
  });

  it('It should destroy the body, stopping its producer, when the response stream fails', async () => {
    const body = new Readable({ read: () => undefined });
    const broken = new Writable({ write: (_chunk, _encoding, done) => done(new Error('client gone')) });
    const handler = streamingLambda(async (): Promise<StreamingResult> => ({ statusCode: 200, headers: {}, body }));
    const run = handler(event, broken as never, context);
    body.push('data: 1\n\n');
    await expect(run).rejects.toThrow('client gone');
    expect(body.destroyed).toBe(true);
  });
});

describe('streamingLambda outside Lambda', () => {
  it('It should refuse to run, pointing hosts to build()', async () => {
    const handler = streamingLambda(async () => ({ statusCode: 200, headers: {}, body: '' }));
    await expect(handler(event, new PassThrough() as never, context)).rejects.toThrow('build(runtime)');
  });
});
