import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { makeKey, postIngest, uniqueService } from './helpers';

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** Reads SSE events from a streaming response until `done` says so (or the time runs out). */
async function readEvents(res: Response, done: (events: SseEvent[]) => boolean, timeoutMs = 8000): Promise<SseEvent[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!done(events) && Date.now() < deadline) {
      const { value, done: end } = await Promise.race([
        reader.read(),
        new Promise<{ value: undefined; done: true }>((r) => setTimeout(() => r({ value: undefined, done: true }), deadline - Date.now())),
      ]);
      if (end || value === undefined) break;
      buffer += value;
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const e: SseEvent = {};
        for (const line of block.split('\n')) {
          const m = /^(id|event|data): ?(.*)$/.exec(line);
          if (m) e[m[1] as keyof SseEvent] = m[2];
        }
        if (e.event) events.push(e);
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return events;
}

describe('GET /v1/tail', () => {
  it('streams new matching logs as they arrive, and resumes after Last-Event-ID', async () => {
    const service = uniqueService('execution');
    const read = await makeKey(service, ['read']);
    const write = await makeKey(service);
    const open = (headers: Record<string, string> = {}) =>
      exports.default.fetch(
        new Request(`http://logs.test/v1/tail?service=${service}&level=warning`, {
          headers: { authorization: `Bearer ${read}`, ...headers },
        }),
      );

    const res = await open();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const sending = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      await postIngest(
        {
          logs: [
            { service, level: 'INFO', message: 'too quiet' },
            { service, level: 'ERROR', message: 'first alert' },
          ],
        },
        { key: write },
      );
    })();
    const events = await readEvents(res, (e) => e.length >= 1);
    await sending;
    expect(events.map((e) => JSON.parse(e.data!).message)).toEqual(['first alert']);
    expect(events[0]!.event).toBe('log');

    // Reconnect after the last event id: only what came after it.
    await postIngest({ logs: [{ service, level: 'WARNING', message: 'second alert' }] }, { key: write });
    const resumed = await readEvents(await open({ 'Last-Event-ID': events[0]!.id! }), (e) => e.length >= 1);
    expect(resumed.map((e) => JSON.parse(e.data!).message)).toEqual(['second alert']);
  }, 20_000);

  it('needs a read key and valid filters', async () => {
    const read = await makeKey('*', ['read']);
    expect((await exports.default.fetch(new Request('http://logs.test/v1/tail'))).status).toBe(401);
    const bad = await exports.default.fetch(
      new Request('http://logs.test/v1/tail?level=LOUD', { headers: { authorization: `Bearer ${read}` } }),
    );
    expect(bad.status).toBe(400);
    const badCursor = await exports.default.fetch(
      new Request('http://logs.test/v1/tail', { headers: { authorization: `Bearer ${read}`, 'Last-Event-ID': 'nope' } }),
    );
    expect(badCursor.status).toBe(400);
  });
});
