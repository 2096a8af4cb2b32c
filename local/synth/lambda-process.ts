/**
 * The parent side of one synthesized function: forks `function-host.ts` on first use with the
 * function's environment, sends it invocations, and enforces the function's timeout (a timed-out
 * or crashed process is killed and replaced on the next invocation, as Lambda resets a sandbox).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HostReply, HostRequest } from './function-host.js';

const HOST = fileURLToPath(new URL('./function-host.ts', import.meta.url));

/** Why an invocation produced no result. */
export class InvocationError extends Error {
  constructor(
    readonly kind: 'timeout' | 'function-error' | 'crashed',
    detail: string,
  ) {
    super(`${kind}: ${detail}`);
    this.name = 'InvocationError';
  }
}

/** Callbacks of a streamed invocation. */
export interface StreamSink {
  chunk(data: Buffer): void;
  end(): void;
  fail(error: InvocationError): void;
}

interface Pending {
  readonly resolve: (result: unknown) => void;
  readonly sink?: StreamSink;
  readonly timer: NodeJS.Timeout;
}

export interface LambdaProcessOptions {
  /** The name in logs and `AWS_LAMBDA_FUNCTION_NAME`. */
  readonly name: string;
  readonly assetDir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Receives everything the process prints. */
  readonly onOutput: (text: string) => void;
}

/** One function's process. */
export class LambdaProcess {
  readonly #options: LambdaProcessOptions;
  readonly #pending = new Map<number, Pending>();
  #child: ChildProcess | undefined;
  #next = 1;

  constructor(options: LambdaProcessOptions) {
    this.#options = options;
  }

  #start(): ChildProcess {
    const child = fork(HOST, [], {
      cwd: this.#options.assetDir,
      env: this.#options.env,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const prefix = (chunk: Buffer) =>
      this.#options.onOutput(
        chunk
          .toString()
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => `[${this.#options.name}] ${line}\n`)
          .join(''),
      );
    child.stdout?.on('data', prefix);
    child.stderr?.on('data', prefix);
    child.on('message', (reply: HostReply) => this.#onReply(reply));
    child.once('exit', (code, signal) => {
      if (this.#child === child) this.#child = undefined;
      for (const [id, pending] of this.#pending) {
        this.#settle(id, pending, new InvocationError('crashed', `exited (${String(code ?? signal)})`));
      }
    });
    return child;
  }

  #settle(id: number, pending: Pending, outcome: unknown): void {
    clearTimeout(pending.timer);
    this.#pending.delete(id);
    if (outcome instanceof InvocationError) {
      if (pending.sink) pending.sink.fail(outcome);
      else pending.resolve(outcome);
    } else {
      pending.resolve(outcome);
    }
  }

  #onReply(reply: HostReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    switch (reply.type) {
      case 'result':
        this.#settle(reply.id, pending, reply.result);
        break;
      case 'error':
        this.#settle(reply.id, pending, new InvocationError('function-error', reply.errorType));
        break;
      case 'chunk':
        pending.sink?.chunk(Buffer.from(reply.data, 'base64'));
        break;
      case 'end':
        clearTimeout(pending.timer);
        this.#pending.delete(reply.id);
        pending.sink?.end();
        pending.resolve(undefined);
        break;
    }
  }

  #send(event: unknown, sink?: StreamSink): { id: number; done: Promise<unknown> } {
    this.#child ??= this.#start();
    const child = this.#child;
    const id = this.#next++;
    const done = new Promise<unknown>((resolve) => {
      const timer = setTimeout(() => {
        const pending = this.#pending.get(id);
        if (!pending) return;
        this.#settle(id, pending, new InvocationError('timeout', `after ${this.#options.timeoutMs} ms`));
        // Lambda ends a timed-out sandbox; its other invocations fail with it.
        child.kill('SIGKILL');
      }, this.#options.timeoutMs);
      this.#pending.set(id, { resolve, timer, ...(sink ? { sink } : {}) });
    });
    const request: HostRequest = { type: 'invoke', id, event, timeoutMs: this.#options.timeoutMs };
    child.send(request);
    return { id, done };
  }

  /** Invokes the function; resolves with its result, or an `InvocationError`. */
  async invoke(event: unknown): Promise<unknown> {
    return this.#send(event).done;
  }

  /** Invokes a streaming function; bytes go to `sink`. Returns a function that aborts the invocation. */
  invokeStream(event: unknown, sink: StreamSink): () => void {
    const { id } = this.#send(event, sink);
    return () => {
      const pending = this.#pending.get(id);
      if (!pending) return;
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      this.#child?.send({ type: 'abort', id } satisfies HostRequest);
    };
  }

  /** Stops the process (pending invocations fail). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
