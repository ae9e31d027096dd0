/** A venue client's report stream over its user channel, collecting every report; stopped by the test's cleanup. */
import {
  createReportStream,
  type ReportSocket,
  type ReportStreamOptions,
} from '../../src/venues/live/reports.ts';
import type { LiveReport, VenueOrderClient } from '../../src/venues/live/types.ts';

export function collectReports(
  client: VenueOrderClient,
  socket: ReportSocket,
  cleanups: (() => Promise<void>)[],
  o: Pick<ReportStreamOptions, 'pollMs' | 'pollConnectedMs' | 'onError'> = {},
) {
  const stream = createReportStream({ client, socket, now: Date.now, ...o });
  const got: LiveReport[] = [];
  stream.start((r) => got.push(r));
  cleanups.push(() => stream.stop());
  return { socket, stream, got };
}
