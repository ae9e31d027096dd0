import { openDb } from '../../src/store/db.ts';
import { storeContract } from '../contract/store-contract.ts';

storeContract({ name: 'PGlite (in memory)', open: () => openDb({ dataDir: 'memory://' }) });
