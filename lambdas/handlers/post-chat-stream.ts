/**
 * `POST /v1/chat/stream`: one chat turn answered as server-sent events. The whole chain and the
 * turn's preparation (session claim, user message stored) run before the first byte, so every
 * failure up to there is a normal JSON error; after `start`, failures are an `error` event.
 */
import { Readable } from 'node:stream';
import { chatTurnOf, prepareTurn, streamChatTurn, type StreamEvent } from '../lib/chat-service.js';
import { ValidationError } from '../lib/errors.js';
import { defineHandler } from '../http/handler.js';
import { route } from '../http/routes.js';
import { idempotencyKeyOf } from '../http/idempotency.js';
import { requestSignal } from '../http/request-signal.js';

async function* sse(events: AsyncIterable<StreamEvent>): AsyncGenerator<string> {
  // JSON never holds a raw newline, so each event is exactly one `data:` line.
  for await (const event of events) yield `data: ${JSON.stringify(event)}\n\n`;
}

export const { handler, build, facts } = defineHandler(
  route('POST /v1/chat/stream'),
  async ({ body, event, state, runtime, context }) => {
    if (idempotencyKeyOf(event) !== undefined) {
      // A stream cannot be replayed: refuse rather than let a client believe retries are safe.
      throw new ValidationError('Idempotency-Key is supported on POST /v1/chat only.', [
        { path: 'headers.Idempotency-Key', message: 'is not supported on this route' },
      ]);
    }
    const turn = chatTurnOf(body, state);
    const prepared = await prepareTurn(runtime, turn);
    const reader = new AbortController();
    let started = false;
    const events = sse(streamChatTurn(runtime, turn, prepared, reader.signal));
    const stream = new Readable({
      objectMode: true,
      read() {
        started = true;
        events.next().then(
          ({ done, value }) => this.destroyed || this.push(done ? null : value),
          (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
        );
      },
      // The reader went away (or the stream ended): stop the model call now. (Not on 'close', as
      // `Readable.from` would: that comes only once the generator returns, which waits for the model's
      // next delta, so a stalled model ran on to its timeout.) A reader gone before the first event
      // never ran the turn, so its answer slot and token reservation are given back here.
      destroy(error, callback) {
        reader.abort();
        if (!started) void prepared.cancel();
        // Once the aborted call settles the turn ends, keeping its partial answer.
        events.return(undefined).catch(() => undefined);
        callback(error);
      },
    });
    // A stream nobody starts reading by the deadline (or whose client is gone) is closed, so what
    // it holds is given back rather than kept until the day ends.
    requestSignal(context).addEventListener('abort', () => started || stream.destroy(), { once: true });
    return {
      statusCode: 200,
      headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' },
      body: stream,
    };
  },
);
