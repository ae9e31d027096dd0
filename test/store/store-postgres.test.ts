import { openDb } from '../../src/store/db.ts';
import { storeContract } from '../contract/store-contract.ts';
import { TEST_PG_URL, testSchema } from './pg.ts';

const schema = testSchema('contract');

storeContract({
  name: 'PostgreSQL',
  open: () => openDb({ url: TEST_PG_URL, schema }),
  cleanup: async (db) => {
    await db.exec(`DROP SCHEMA ${schema} CASCADE`);
  },
});
