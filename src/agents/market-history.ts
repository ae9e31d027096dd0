/**
 * The markets published before an agent started. The feeds publish each market once (and again only when it
 * changes), so an agent that starts late — a restart, a standby executor taking over — finds them in the bus's
 * retained history of the markets channels (oldest first), not in its new subscription.
 */
import type { AgentRuntime } from '../core/agent.ts';
import { channels } from '../core/channels.ts';
import { type Market, VENUES } from '../core/messages.ts';

export async function retainedMarkets(rt: AgentRuntime): Promise<Market[]> {
  const out: Market[] = [];
  for (const v of VENUES)
    for (const m of await rt.kernel.bus.history(channels.markets(v), rt.config.redisStreamMaxLen))
      out.push(m.body);
  return out;
}
