import { createInProcBus } from '../../src/core/bus/inproc.ts';
import { busContract } from '../contract/bus-contract.ts';

busContract('inproc', async (o) => createInProcBus({ maxLen: o?.maxLen ?? 10_000, sweepIntervalMs: 50 }), {
  visibilityMs: 200,
  shared: false,
  retentionSlack: 0,
});
