import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { missingMessage, REQUIRED, SHARED_DIR } from './shared.ts';

/** Refuses to run the recorded suite without ../shared: a clear failure, never a silent pass or a skip. */
export default function checkShared(): void {
  const missing = REQUIRED.filter((p) => !existsSync(join(SHARED_DIR, p)));
  if (missing.length > 0) throw new Error(missingMessage(missing));
}
