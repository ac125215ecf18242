import { describe, expect, it } from 'vitest';
import { parseSse, type SseMessage } from '../src/index.js';

/** A body that delivers `text` in the given chunks (byte-split, to cross UTF-8 and CRLF boundaries). */
function body(text: string, chunkSize: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

async function parseAll(text: string, chunkSize: number): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of parseSse(body(text, chunkSize))) out.push(m);
  return out;
}

const STREAM =
  '\ufeffretry: 2000\n\n' +
  'event: snapshot\ndata: {"a":1}\n\n' +
  ': keep-alive\r\n\r\n' +
  'id: 7\r\nevent: content_job.progress\r\ndata: {"stage":"étape ✓"}\r\n\r\n' +
  'id: 8\revent: multi\rdata: line one\rdata:line two\r\r' +
  'data: no event name\n\n' +
  'id: 9\nevent: cut-off\ndata: {"never":"dispatched"}';

describe('parseSse', () => {
  it('handles LF, CRLF and CR line ends, comments, multi-line data, UTF-8 and a BOM in any chunking', async () => {
    const expected: SseMessage[] = [
      { event: 'snapshot', data: '{"a":1}' },
      { event: 'content_job.progress', data: '{"stage":"étape ✓"}', id: '7' },
      { event: 'multi', data: 'line one\nline two', id: '8' },
      { event: 'message', data: 'no event name' },
    ];
    for (const size of [1, 2, 3, 7, 64, 4096]) expect(await parseAll(STREAM, size)).toEqual(expected);
  });

  it('cancels the body when the consumer stops early', async () => {
    let canceled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('event: a\ndata: 1\n\nevent: b\ndata: 2\n\n'));
      },
      cancel() {
        canceled = true;
      },
    });
    for await (const m of parseSse(stream)) {
      expect(m.event).toBe('a');
      break;
    }
    expect(canceled).toBe(true);
  });
});
