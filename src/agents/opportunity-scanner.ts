/**
 * Opportunity scanner agent: markets, books, oracle ticks, market links and oracle links in; opportunities out
 * (channels.opportunities). All the logic is in src/scanner (per-update work bounded by what the update touches).
 */
import type { Agent, AgentRuntime } from '../core/agent.ts';
import { channels } from '../core/channels.ts';
import { type Opportunity, OracleSourceSchema, VENUES } from '../core/messages.ts';
import { Scanner, type ScannerOptions } from '../scanner/scanner.ts';

export interface OpportunityScannerAgentOptions extends Partial<Omit<ScannerOptions, 'now' | 'ids'>> {
  readonly name?: string;
}

export function createOpportunityScannerAgent(
  opts: OpportunityScannerAgentOptions = {},
): Agent & { scanner(): Scanner | undefined } {
  let scanner: Scanner | undefined;
  const { name, ...scannerOpts } = opts;
  return {
    name: name ?? 'opportunity-scanner',
    trading: false,
    scanner: () => scanner,
    start(rt: AgentRuntime) {
      const s = new Scanner({
        ...scannerOpts,
        now: () => rt.clock.now(),
        ids: rt.kernel.ids,
      });
      scanner = s;
      // indexed: for-of over the shared empty list (frozen, another array map) and fresh lists made an iterator
      const emit = (out: readonly Opportunity[]): void => {
        for (let i = 0; i < out.length; i++) rt.publish(channels.opportunities, out[i]!);
      };
      for (const v of VENUES) {
        rt.subscribe(channels.markets(v), (msg) => emit(s.onMarket(msg.body)));
        rt.subscribe(channels.books(v), (msg) => emit(s.onBook(msg.body)));
      }
      for (const src of OracleSourceSchema.options) {
        rt.subscribe(channels.ticks(src), (msg) => emit(s.onTick(msg.body)));
      }
      rt.subscribe(channels.links, (msg) => s.onLink(msg.body));
      rt.subscribe(channels.oracleLinks, (msg) => s.onOracleLink(msg.body));
    },
    health() {
      return scanner ? { markets: scanner.marketCount, ...scanner.stats } : {};
    },
  };
}
