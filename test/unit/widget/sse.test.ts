import { SseParser, readEvents } from '../../../widget/src/sse.js';

/** Feeds `chunks` one by one and collects every event's data. */
function parse(chunks: string[]): string[] {
  const parser = new SseParser();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

describe('SseParser', () => {
  it.each([
    ['one event', ['data: {"a":1}\n\n'], ['{"a":1}']],
    ['two events in one chunk', ['data: 1\n\ndata: 2\n\n'], ['1', '2']],
    ['an event split inside its field name', ['da', 'ta: x\n', '\n'], ['x']],
    ['an event split between its two newlines', ['data: x\n', '\ndata: y\n\n'], ['x', 'y']],
    ['CRLF line ends', ['data: x\r\n\r\n'], ['x']],
    ['CRLF split between CR and LF', ['data: x\r', '\n\r', '\n'], ['x']],
    ['bare CR line ends', ['data: x\r\rdata: y\r\r'], ['x', 'y']],
    ['a CR ending a chunk as a line end at once', ['data: x\r', '\r'], ['x']],
    ['a multi-line data field', ['data: a\ndata: b\n\n'], ['a\nb']],
    ['data without the optional space', ['data:x\n\n'], ['x']],
    ['only the first space removed', ['data:  x\n\n'], [' x']],
    ['comments and other fields ignored', [': keep-alive\nevent: message\nid: 7\nretry: 10\ndata: x\n\n'], ['x']],
    ['an event with no data ignored', ['event: ping\n\n'], []],
    ['an unfinished event held back', ['data: x\n'], []],
  ])('It should parse %s', (_name, chunks, expected) => {
    expect(parse(chunks)).toEqual(expected);
  });
});

describe('readEvents', () => {
  const body = (parts: Uint8Array[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(part);
        controller.close();
      },
    });

  it('It should decode UTF-8 split across chunks and drop an event cut off by the end of the stream', async () => {
    const bytes = new TextEncoder().encode('data: héllo ✓\n\ndata: cut');
    // Split inside the two-byte "é" and inside the three-byte "✓".
    const parts = [bytes.subarray(0, 8), bytes.subarray(8, 15), bytes.subarray(15)];
    const events: string[] = [];
    for await (const data of readEvents(body(parts))) events.push(data);
    expect(events).toEqual(['héllo ✓']);
  });
});
