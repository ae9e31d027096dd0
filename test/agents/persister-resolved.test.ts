/**
 * The persister samples book history once per `historySampleMs` per token; a resolved market's tokens are
 * forgotten (a roll-over relisting markets every 15 minutes would otherwise keep every token ever listed).
 */
import { describe, expect, it } from 'vitest';
import { createPersister } from '../../src/agents/persister.ts';
import { channels } from '../../src/core/channels.ts';
import { openDb } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrations.ts';
import { book, config, harness, market } from '../risk/fixtures.ts';

describe('persister: resolved markets', () => {
  it("forgets a resolved market's sampling times and keeps the live ones'", async () => {
    const db = await openDb({ dataDir: 'memory://' });
    try {
      await migrate(db);
      const persister = createPersister({
        db,
        migrate: false,
        flushIntervalMs: 1,
        historySampleMs: 1_000,
        snapshots: false,
        pruneEveryMs: 0,
      });
      const h = await harness([persister], config);
      const books = (t: number) => [
        book('polymarket', 'm1', 'm1-yes', [[0.4, 10]], [[0.5, 10]], t),
        book('polymarket', 'm2', 'm2-yes', [[0.4, 10]], [[0.5, 10]], t),
      ];
      for (const m of ['m1', 'm2']) await h.publish(channels.markets('polymarket'), market('polymarket', m));
      for (const b of books(1_000)) await h.publish(channels.books('polymarket'), b);
      expect(persister.health().sampled).toBe(2);
      await h.publish(
        channels.markets('polymarket'),
        market('polymarket', 'm1', { status: 'resolved', winner: 'm1-yes' }),
      );
      // within the sample interval: the live token is not sampled again; the resolved one starts afresh
      for (const b of books(1_500)) await h.publish(channels.books('polymarket'), b);
      expect(persister.health().sampled).toBe(3);
      await persister.flush();
      const rows = await db.query<{ token_id: string }>(
        'SELECT token_id FROM book_history ORDER BY token_id',
      );
      expect(rows.rows.map((r) => r.token_id)).toEqual(['m1-yes', 'm1-yes', 'm2-yes']);
      await h.stop();
    } finally {
      await db.close();
    }
  }, 60_000);
});
