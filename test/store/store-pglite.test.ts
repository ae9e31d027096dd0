import { describe, expect, it } from 'vitest';
import { openDb, PGLITE_SHARED_BUFFERS } from '../../src/store/db.ts';
import { storeContract } from '../contract/store-contract.ts';

storeContract({ name: 'PGlite (in memory)', open: () => openDb({ dataDir: 'memory://' }) });

describe('PGlite settings', () => {
  it('runs with a small buffer pool (it lives in the WASM heap, which never shrinks)', async () => {
    const db = await openDb({ dataDir: 'memory://' });
    try {
      const r = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
      expect(r.rows[0]!.shared_buffers).toBe(PGLITE_SHARED_BUFFERS);
      expect(PGLITE_SHARED_BUFFERS).toBe('16MB');
    } finally {
      await db.close();
    }
  });
});
