/** What bench/backtest.bench.ts times, compiled as `pm-arb` runs it (bench/built.ts). */
export { createCapitalAllocator } from '../src/agents/capital-allocator.ts';
export { createExecutor } from '../src/agents/executor.ts';
export { createRiskGuardian } from '../src/agents/risk-guardian.ts';
export { runBacktest } from '../src/app/backtest.ts';
export { loadConfig } from '../src/core/config.ts';
export { tuneV8ForThroughput } from '../src/core/v8-tuning.ts';
