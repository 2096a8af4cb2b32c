/**
 * A fake OpenAI-compatible `/v1/chat/completions` server on loopback. Each test sets how it
 * answers (JSON, a stream of chunks, an HTTP error, malformed chunks, no answer at all) and reads
 * back what it received: the Authorization header, the messages, and whether the client hung up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { http, openEventStream, type HttpResponse } from './http.js';
import { startServer, type RunningServer } from './local-server.js';

/** How the fake answers the next requests. */
export type FakeBehaviour =
  /** `usage` is reported (in the JSON answer, or in a last chunk when the client asks `include_usage`); `null`: none. */
  | {
      readonly kind: 'answer';
      readonly deltas: readonly string[];
      readonly usage?: FakeUsage | null;
      /** Each answer waits for this first (to hold many calls in flight at once). */
      readonly hold?: Promise<void>;
    }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'truncated'; readonly deltas: readonly string[] }
  /** Sends headers and the first delta, then nothing until the client gives up. */
  | { readonly kind: 'stall'; readonly first?: string };

/** Usage as the OpenAI API reports it. */
export interface FakeUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
}

/** What the fake reports unless told otherwise. */
export const DEFAULT_USAGE: FakeUsage = { prompt_tokens: 17, completion_tokens: 4 };

/** One request the fake received. */
export interface ReceivedRequest {
  readonly authorization: string | undefined;
  readonly body: {
    model: string;
    stream: boolean;
    messages: Array<{ role: string; content: string }>;
    max_tokens?: number;
    stream_options?: { include_usage?: boolean };
  };
  /** Resolves when the client closed the connection before the fake finished answering. */
  readonly hungUp: Promise<void>;
}

export interface FakeOpenAi {
  /** The base URL to configure (`OPENAI_BASE_URL`), ending in `/v1`. */
  readonly baseUrl: string;
  readonly requests: ReceivedRequest[];
  behave(behaviour: FakeBehaviour): void;
  close(): Promise<void>;
}

const chunk = (delta: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: delta } }] })}\n\n`;

async function readJson(req: IncomingMessage): Promise<ReceivedRequest['body']> {
  const parts: Buffer[] = [];
  for await (const part of req as AsyncIterable<Buffer>) parts.push(part);
  return JSON.parse(Buffer.concat(parts).toString('utf8')) as ReceivedRequest['body'];
}

function answer(res: ServerResponse, behaviour: FakeBehaviour, body: ReceivedRequest['body']): void {
  const { stream } = body;
  switch (behaviour.kind) {
    case 'status':
      res.writeHead(behaviour.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'the prompt was: SECRET-PROMPT-ECHO' } }));
      return;
    case 'malformed':
      res.writeHead(200, { 'Content-Type': stream ? 'text/event-stream' : 'application/json' });
      res.end(stream ? `${chunk('ok')}data: {not json\n\n` : '{not json');
      return;
    case 'stall':
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      if (behaviour.first !== undefined) res.write(chunk(behaviour.first));
      return;
    case 'truncated':
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end(behaviour.deltas.map(chunk).join(''));
      return;
    case 'answer': {
      const usage = behaviour.usage === undefined ? DEFAULT_USAGE : behaviour.usage;
      if (!stream) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            choices: [{ index: 0, message: { role: 'assistant', content: behaviour.deltas.join('') } }],
            ...(usage ? { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } } : {}),
          }),
        );
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      // A role-only first chunk and a finish chunk without content, as OpenAI sends them.
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant' } }] })}\n\n`);
      for (const delta of behaviour.deltas) res.write(chunk(delta));
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      // With `stream_options.include_usage`, OpenAI sends the usage in a last chunk with no choices.
      if (usage && body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ choices: [], usage })}\n\n`);
      res.end('data: [DONE]\n\n');
    }
  }
}

/** Starts a fake on 127.0.0.1 that answers `Echo`-free deltas until told otherwise. */
export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  let behaviour: FakeBehaviour = { kind: 'answer', deltas: ['Hello', ' from', ' the', ' fake'] };
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readJson(req);
      let finished = false;
      res.once('finish', () => (finished = true));
      const hungUp = new Promise<void>((resolve) => res.once('close', () => !finished && resolve()));
      requests.push({ authorization: req.headers.authorization, body, hungUp });
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      if (behaviour.kind === 'answer' && behaviour.hold) await behaviour.hold;
      answer(res, behaviour, body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    behave: (next) => (behaviour = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The local server behind a fake upstream (see `useServerWithFakeOpenAi`), and each test's own session. */
export interface ServerWithFakeOpenAi {
  readonly fake: FakeOpenAi;
  readonly server: RunningServer;
  /** Counts the tests of the block: 1 in the first. */
  readonly test: number;
  /** The running test's session id, `<prefix>-<test>`. */
  sessionId(): string;
  /** The widget key header. */
  key(): Record<string, string>;
  /** Opens a stream of the running test's session. */
  stream(message: string): ReturnType<typeof openEventStream>;
  /** `GET /v1/admin/conversations/{the test's session}` with the admin key. */
  conversation(): Promise<HttpResponse>;
}

/**
 * Registers the hooks of a describe block: the local server with `LLM_PROVIDER=openai` and `env`
 * against a fake upstream started once; before each test, the fake forgets its requests and
 * answers `deltas`, and the test gets a new session.
 */
export function useServerWithFakeOpenAi(
  prefix: string,
  env: Record<string, string>,
  deltas: readonly string[],
): ServerWithFakeOpenAi {
  let fake: FakeOpenAi | undefined;
  let server: RunningServer | undefined;
  let test = 0;
  beforeAll(async () => {
    fake = await startFakeOpenAi();
    server = await startServer({
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'sk-fake-0123456789',
      ...env,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
  });
  beforeEach(() => {
    fake?.requests.splice(0);
    fake?.behave({ kind: 'answer', deltas });
    test += 1;
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('used before beforeAll');
    return value;
  };
  const target: ServerWithFakeOpenAi = {
    get fake() {
      return started(fake);
    },
    get server() {
      return started(server);
    },
    get test() {
      return test;
    },
    sessionId: () => `${prefix}-${test}`,
    key: () => ({ 'X-Widget-Api-Key': target.server.secrets.widgetKey }),
    stream: (message) =>
      openEventStream(`${target.server.url}/v1/chat/stream`, { sessionId: target.sessionId(), message }, target.key()),
    conversation: () =>
      http(`${target.server.url}/v1/admin/conversations/${target.sessionId()}`, {
        headers: { Authorization: `Bearer ${target.server.secrets.adminKey}` },
      }),
  };
  return target;
}
