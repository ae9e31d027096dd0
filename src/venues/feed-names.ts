/**
 * The names of the feeds a process can run, and their parsing: kept apart from registry.ts (which loads every
 * feed's decoder and transport) so that a command can check `--only`/`--venues` before loading any of them.
 */

/** Every feed a process can run: the two venues and the two oracle sources. */
export const FEED_NAMES = ['polymarket', 'kalshi', 'binance', 'chainlink'] as const;
export type FeedName = (typeof FEED_NAMES)[number];

/** Source-name prefixes of each feed (what a simulator hub routes to it). */
export const FEED_PREFIXES: Readonly<Record<FeedName, readonly string[]>> = {
  polymarket: ['polymarket.'],
  kalshi: ['kalshi.'],
  binance: ['binance.'],
  chainlink: ['chainlink.'],
};

export function parseFeedNames(list: string): FeedName[] {
  const out: FeedName[] = [];
  for (const raw of list.split(',')) {
    const n = raw.trim().toLowerCase();
    if (n === '') continue;
    if (!(FEED_NAMES as readonly string[]).includes(n)) {
      throw new Error(`unknown feed "${raw}": expected a comma-separated list of ${FEED_NAMES.join(', ')}`);
    }
    if (!out.includes(n as FeedName)) out.push(n as FeedName);
  }
  if (out.length === 0) throw new Error(`no feeds given: expected some of ${FEED_NAMES.join(', ')}`);
  return out;
}
