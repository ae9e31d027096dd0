/**
 * No import cycle between the top-level folders of src/ (src/core, src/feeds, src/venues, …): a folder may use
 * the folders below it, never one that uses it back. Imports are read with TypeScript's own pre-processor
 * (static, `export … from`, dynamic `import()` and type-only imports all count), so comments and strings do not.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|tsx|mts)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** The top-level folder of a path under src/ (a file directly in src/ is its own unit). */
function folderOf(file: string): string {
  return relative(SRC, file).split(sep)[0]!;
}

/** folder → folder → one example `file → import` per edge. */
type Graph = Map<string, Map<string, string>>;

function folderGraph(files: readonly string[]): Graph {
  const g: Graph = new Map();
  for (const file of files) {
    const from = folderOf(file);
    if (!g.has(from)) g.set(from, new Map());
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue; // packages and node: builtins
      const target = resolve(dirname(file), ref.fileName);
      if (!target.startsWith(SRC + sep)) continue;
      const to = folderOf(target);
      if (to === from) continue;
      const edges = g.get(from)!;
      if (!edges.has(to)) edges.set(to, `${relative(SRC, file)} → ${ref.fileName}`);
    }
  }
  return g;
}

/** Strongly connected components with more than one folder (Tarjan). */
function cycles(g: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of g.get(v)?.keys() ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** Each cycle's edges with an example import, for a failure message that says what to move. */
function explain(g: Graph, comp: readonly string[]): string {
  const lines: string[] = [];
  for (const a of comp)
    for (const [b, example] of g.get(a) ?? []) if (comp.includes(b)) lines.push(`  ${a} → ${b}: ${example}`);
  return `cycle between ${comp.join(', ')}:\n${lines.join('\n')}`;
}

describe('folders of src/', () => {
  it('import one another without a cycle', () => {
    const g = folderGraph(sourceFiles(SRC));
    expect(g.size).toBeGreaterThan(10); // the scan found the source tree
    expect(g.get('venues')?.has('feeds')).toBe(true); // and reads imports
    expect(cycles(g).map((c) => explain(g, c))).toEqual([]);
  });

  it('the scan detects a cycle when there is one', () => {
    const g: Graph = new Map([
      ['a', new Map([['b', 'a/x.ts → ../b/y.ts']])],
      ['b', new Map([['c', 'b/y.ts → ../c/z.ts']])],
      ['c', new Map([['a', 'c/z.ts → ../a/x.ts']])],
      ['d', new Map([['a', 'd/w.ts → ../a/x.ts']])],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
  });

  it('shared feed plumbing imports neither venues nor oracles', () => {
    const g = folderGraph(sourceFiles(SRC));
    const feeds = [...(g.get('feeds')?.keys() ?? [])];
    expect(feeds.filter((f) => f !== 'core')).toEqual([]);
  });
});
