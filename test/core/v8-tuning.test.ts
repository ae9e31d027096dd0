import { describe, expect, it } from 'vitest';
import { inliningChosen, tuneV8ForThroughput } from '../../src/core/v8-tuning.ts';

describe('V8 tuning of backtest and replay', () => {
  it('leaves inlining to a flag given to node, and only to a flag about it', () => {
    expect(inliningChosen(['--turbo-inlining'])).toBe(true);
    expect(inliningChosen(['--no-turbo-inlining'])).toBe(true);
    expect(inliningChosen(['--noturbo_inlining'])).toBe(true);
    // a tracing flag that merely contains the name is no choice about inlining
    expect(inliningChosen(['--trace-turbo-inlining', '--max-old-space-size=100'])).toBe(false);
    expect(inliningChosen([])).toBe(false);
  });

  it('gives an undo that can run', () => {
    const undo = tuneV8ForThroughput();
    expect(() => undo()).not.toThrow();
  });
});
