import { describe, expect, it } from 'vitest';
import { oracleLinkOf } from '../../src/matcher/facts.ts';
import { gammaUpDown } from '../../test/matcher/cases.ts';
import { recordedJson } from '../shared.ts';

describe('settlement facts', () => {
  it('turns the recorded up/down market into an oracle link with its 5-minute window (EDT)', () => {
    const m = gammaUpDown(recordedJson<Record<string, string>>('polymarket/gamma-market-btc-updown-5m.json'));
    const link = oracleLinkOf(m)!;
    expect(link).toMatchObject({
      kind: 'up_down',
      asset: 'BTC',
      symbol: 'BTC/USD',
      settlementSource: 'chainlink stream',
      yesToken: m.outcomes[0]!.tokenId,
      noToken: m.outcomes[1]!.tokenId,
    });
    expect(new Date(link.start!).toISOString()).toBe('2026-03-12T09:20:00.000Z');
    expect(new Date(link.expiry).toISOString()).toBe('2026-03-12T09:25:00.000Z');
  });
});
