/**
 * Market matcher agent: markets in (every venue); OracleLinks (channels.oracleLinks) and MarketLinks
 * (channels.links) out. Rules first, the LLM through @anthropic-ai/sdk when ANTHROPIC_API_KEY is set (else rules
 * only, logged at start) within MATCHER_DAILY_BUDGET_USD, verdicts cached durably in the MatchStore (JSON file
 * under DATA_DIR by default), undetermined pairs queued there for review (`pm-arb matches --review`).
 */
import type { Agent, AgentRuntime } from '../core/agent.ts';
import { channels } from '../core/channels.ts';
import type { TimerHandle } from '../core/clock.ts';
import { VENUES } from '../core/messages.ts';
import { judgeFromConfig, type LlmJudge } from '../matcher/llm.ts';
import { Matcher } from '../matcher/matcher.ts';
import { createJsonMatchStore, type MatchStore, matchFilePath } from '../matcher/store.ts';

export interface MarketMatcherAgentOptions {
  /** Default: the JSON file store under config.dataDir. */
  readonly store?: MatchStore;
  /** An LLM judge; `null` forces rules only; default: Anthropic when config.anthropic.apiKey is set. */
  readonly llm?: LlmJudge | null;
  readonly minConfidence?: number;
  /** LLM links below this confidence are also queued for review (default 0.9). */
  readonly reviewBelow?: number;
  /** How often the manual override list is re-read (the CLI edits it while the agent runs); default 10 s. */
  readonly overrideRefreshMs?: number;
  readonly name?: string;
}

export function createMarketMatcherAgent(
  opts: MarketMatcherAgentOptions = {},
): Agent & { matcher(): Matcher | undefined } {
  let matcher: Matcher | undefined;
  let timer: TimerHandle | undefined;
  let store: MatchStore | undefined;
  return {
    name: opts.name ?? 'market-matcher',
    trading: false,
    matcher: () => matcher,
    async start(rt: AgentRuntime) {
      const cfg = rt.config;
      const s = opts.store ?? createJsonMatchStore(matchFilePath(cfg.dataDir));
      store = s;
      const llm =
        opts.llm !== undefined
          ? (opts.llm ?? undefined)
          : judgeFromConfig(cfg, s, () => rt.clock.now(), rt.log);
      if (!llm) rt.log.info('market matcher: ANTHROPIC_API_KEY is not set, matching with rules only');
      else
        rt.log.info(
          { model: llm.model, dailyBudgetUsd: cfg.matcherDailyBudget / 1e6 },
          'market matcher: rules, then the LLM for undetermined pairs',
        );
      const m = new Matcher({
        store: s,
        llm,
        minConfidence: opts.minConfidence ?? cfg.matchMinConfidence,
        ...(opts.reviewBelow !== undefined ? { reviewBelow: opts.reviewBelow } : {}),
        now: () => rt.clock.now(),
        log: rt.log,
      });
      await m.init();
      matcher = m;
      let refreshing = false;
      timer = rt.clock.every(opts.overrideRefreshMs ?? 10_000, () => {
        if (refreshing) return;
        refreshing = true;
        m.refreshOverrides()
          .then((links) => {
            for (const l of links) rt.publish(channels.links, l);
          })
          .catch((err: unknown) =>
            rt.log.warn({ err: String(err) }, 'market matcher: cannot re-read overrides'),
          )
          .finally(() => {
            refreshing = false;
          });
      });
      for (const v of VENUES) {
        rt.subscribe(channels.markets(v), async (msg) => {
          const out = await m.onMarket(msg.body);
          if (out.oracleLink) rt.publish(channels.oracleLinks, out.oracleLink);
          for (const l of out.links) rt.publish(channels.links, l);
        });
      }
    },
    stop() {
      timer?.cancel();
      if (store && 'flush' in store && typeof store.flush === 'function') store.flush();
    },
    health() {
      return matcher ? { rulesOnly: matcher.rulesOnly, ...matcher.stats } : {};
    },
  };
}
