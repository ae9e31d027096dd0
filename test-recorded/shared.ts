/**
 * Where the recorded suite finds what the repository may not hold: `../shared/` beside the repository root, with
 * the recorded third-party payloads in `fixtures/` (polymarket/, kalshi/, binance/) and the labelled market pairs
 * in `matcher/`. Every path goes through `sharedPath`, which fails with a message saying what is missing and what
 * to do, so the suite never passes or skips silently without them.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type FixtureReader, fixtureReader } from '../test/helpers/fixtures.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..');
export const SHARED_DIR = resolve(REPO_ROOT, '../shared');

/** What `npm run test:recorded` needs from ../shared, checked before any test runs (vitest.config.ts). */
export const REQUIRED = [
  'fixtures/polymarket',
  'fixtures/kalshi',
  'fixtures/binance',
  'matcher/dev-pairs.jsonl',
];

/** The REQUIRED paths that are not there. */
export const missingShared = (): string[] => REQUIRED.filter((p) => !existsSync(join(SHARED_DIR, p)));

export function missingMessage(missing: readonly string[]): string {
  const what = existsSync(SHARED_DIR)
    ? `${missing.map((m) => join(SHARED_DIR, m)).join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`
    : `${SHARED_DIR} does not exist`;
  return [
    'npm run test:recorded replays recorded venue payloads that are kept outside the repository, in ../shared',
    `beside it (here ${SHARED_DIR}), and ${what}.`,
    'Put the shared folder beside the clone (../shared/fixtures and ../shared/matcher, as CI lays them out), or',
    'run `npm test`, which needs nothing outside the repository.',
  ].join('\n');
}

/** An absolute path below ../shared; throws with `missingMessage` when it does not exist. */
export function sharedPath(...parts: string[]): string {
  const p = join(SHARED_DIR, ...parts);
  if (!existsSync(p)) throw new Error(missingMessage([join(...parts)]));
  return p;
}

let reader: FixtureReader | undefined;
/** The recorded third-party payloads of ../shared/fixtures (API-NOTES.md there describes them). */
export function recorded(): FixtureReader {
  reader ??= fixtureReader(sharedPath('fixtures'));
  return reader;
}

export const recordedJson = <T = unknown>(rel: string): T => recorded().json<T>(rel);
export const recordedJsonl = <T = unknown>(rel: string): T[] => recorded().jsonl<T>(rel);
export const recordedText = (rel: string): string => recorded().text(rel);

/** One side of a labelled pair (../shared/matcher/README.md); fields a source did not give are absent. */
export interface DevPairSide {
  readonly venue: 'polymarket' | 'kalshi';
  readonly id?: string;
  readonly title?: string;
  readonly subtitle?: string;
  readonly rules?: string;
  readonly rules_secondary?: string;
  readonly ticker?: string;
  readonly event_ticker?: string;
  readonly slug?: string;
  readonly condition_id?: string;
  readonly close_time?: string;
  readonly floor_strike?: number;
  readonly cap_strike?: number;
  readonly strike_type?: string;
  readonly outcomes?: readonly string[];
}

export type DevPairLabel = 'identical' | 'inverted' | 'implies' | 'exclusive' | 'different';

export interface DevPair {
  readonly a: DevPairSide;
  readonly b: DevPairSide;
  readonly label: DevPairLabel;
  readonly label_source: string;
  readonly facts_level: 'full' | 'partial' | 'titles';
  readonly source: string;
  readonly note?: string;
}

/** The labelled Polymarket ↔ Kalshi pairs for evaluating the matcher (../shared/matcher/dev-pairs.jsonl). */
export function devPairs(): DevPair[] {
  return fixtureReader(sharedPath('matcher')).jsonl<DevPair>('dev-pairs.jsonl');
}
