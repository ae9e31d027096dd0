import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Reads JSON, JSONL and text fixtures below one folder. */
export interface FixtureReader {
  readonly root: string;
  path(rel: string): string;
  text(rel: string): string;
  json<T = unknown>(rel: string): T;
  /** Lines of a .jsonl fixture, parsed. */
  jsonl<T = unknown>(rel: string): T[];
}

export function fixtureReader(root: string): FixtureReader {
  const path = (rel: string): string => join(root, rel);
  const text = (rel: string): string => readFileSync(path(rel), 'utf8');
  return {
    root,
    path,
    text,
    json: <T>(rel: string): T => JSON.parse(text(rel)) as T,
    jsonl: <T>(rel: string): T[] =>
      text(rel)
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as T),
  };
}

/**
 * The fixtures the project owns: payloads written by hand from the venues' documented schemas, with our own
 * values (test/fixtures/owned/<venue>/). `npm test` reads nothing else.
 */
export const OWNED_FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/owned');
export const owned: FixtureReader = fixtureReader(OWNED_FIXTURES);

export const fixturePath = (rel: string): string => owned.path(rel);
export const fixtureText = (rel: string): string => owned.text(rel);
export const fixtureJson = <T = unknown>(rel: string): T => owned.json<T>(rel);
export const fixtureJsonl = <T = unknown>(rel: string): T[] => owned.jsonl<T>(rel);

/** Writes JSON so a reader polling for the file never sees it half-written (write a temporary file, then rename). */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}
