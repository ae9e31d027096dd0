import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstLineTs } from '../../src/capture/reader.ts';
import { openCapture } from '../../src/capture/source.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmarb-open-'));
const T = 1_795_701_600_000;
const line = (ts: number) => `{"ts":${ts},"source":"kalshi.ws","data":{"type":"trade"}}`;
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('firstLineTs', () => {
  it('is the ts of a first line the reader takes as a frame', () => {
    expect(firstLineTs(file('a.jsonl', `${line(T)}\n${line(T + 1)}\n`))).toBe(T);
    expect(firstLineTs(file('crlf.jsonl', `${line(T)}\r\n${line(T + 1)}\r\n`))).toBe(T);
  });

  it('is undefined when only the reader can tell the first frame', () => {
    const second = `\n${line(T + 1)}\n`;
    expect(firstLineTs(file('blank.jsonl', `${second}`))).toBeUndefined();
    expect(firstLineTs(file('bad.jsonl', `{"ts":1,${second}`))).toBeUndefined();
    expect(firstLineTs(file('old.jsonl', `${line(-5)}${second}`))).toBeUndefined(); // ts outside 1970..2100
    expect(firstLineTs(file('nonl.jsonl', line(T)))).toBeUndefined(); // no end of line read
    expect(firstLineTs(file('empty.jsonl', ''))).toBeUndefined();
    expect(firstLineTs(join(dir, 'missing.jsonl'))).toBeUndefined();
    // over the line limit: the reader rejects it
    const long = file('long.jsonl', `${line(T)}\n${line(T + 1)}\n`);
    expect(firstLineTs(long, line(T).length - 1)).toBeUndefined();
    expect(firstLineTs(long, line(T).length)).toBe(T);
    // longer than the look-ahead
    const huge = `{"ts":${T},"source":"x","data":"${'y'.repeat(300_000)}"}`;
    expect(firstLineTs(file('huge.jsonl', `${huge}\n`))).toBeUndefined();
  });
});

describe('openCapture', () => {
  it('starts the clock at the first frame, read from the first line or from the reader', async () => {
    for (const [name, text, start] of [
      ['first.jsonl', `${line(T)}\n${line(T + 5)}\n`, T],
      ['second.jsonl', `not json\n${line(T + 5)}\n${line(T + 6)}\n`, T + 5],
      ['none.jsonl', 'not json\n', 0],
    ] as const) {
      const { hub, clock, empty } = await openCapture(file(name, text), { worker: true });
      expect(clock.now()).toBe(start);
      expect(empty).toBe(start === 0);
      const played = await hub.play();
      expect(played.frames).toBe(start === 0 ? 0 : 2);
      expect(played.firstTs).toBe(start === 0 ? undefined : start);
    }
  });

  it('rejects a file it cannot read, as the reader does', async () => {
    await expect(openCapture(join(dir, 'missing.jsonl'), { worker: true })).rejects.toThrow(/ENOENT/);
  });
});
