/**
 * A server-sent events parser for `POST /v1/chat/stream`: text in (in whatever chunks the network
 * delivers), the `data` payload of each complete event out. Comments, `event`, `id` and `retry`
 * fields are ignored: the contract only uses `data`.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  /** The last chunk ended in "\r": a "\n" opening the next one belongs to that line end. */
  private afterCr = false;

  /** Feeds a chunk of the stream; returns the data of every event the chunk completed. */
  push(chunk: string): string[] {
    if (chunk === '') return [];
    const text = this.afterCr && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    this.afterCr = chunk.endsWith('\r');
    const events: string[] = [];
    const lines = (this.buffer + text).split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (this.data.length > 0) events.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
    }
    return events;
  }
}

/** Reads a response body as server-sent events and yields each event's `data`. */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    // An event is complete only once its blank line arrived; a cut-off one is dropped.
    yield* parser.push(decoder.decode());
  } finally {
    // Stops the download when the reader gives up early (the widget was closed or destroyed).
    await reader.cancel().catch(() => undefined);
  }
}
