import { storeContract } from '../contract/store-contract.ts';
import { openDb } from '../../src/store/db.ts';

storeContract({ name: 'PGlite (in memory)', open: () => openDb({ dataDir: 'memory://' }) });
