/**
 * `pm-arb record --out FILE.jsonl [--venues polymarket,kalshi,binance,chainlink] [--duration 10m]`: runs the
 * live FrameSources and writes every raw frame as received (before any decoding). Stops after --duration or on
 * SIGINT/SIGTERM with every line written. `--feeds sim` records the simulated market on the wall clock instead.
 */
import type { Command } from 'commander';
import type { Recording } from '../../capture/record.ts';
import { loadConfig, loadDotEnv } from '../../core/config.ts';
import type { FrameSource } from '../../feeds/types.ts';
import { FEED_NAMES, parseFeedNames } from '../../venues/feed-names.ts';
import { requireWritable } from '../files.ts';
import { UsageError } from '../main.ts';
import { parseDuration, parseIntOpt } from '../options.ts';

export { parseDuration };

export function registerRecordCommand(program: Command): void {
  program
    .command('record')
    .description('record raw venue and oracle frames, as received, to a capture file')
    .requiredOption('--out <file>', 'capture file to write (.jsonl)')
    .option('--venues <list>', `feeds to record: ${FEED_NAMES.join(',')}`, FEED_NAMES.join(','))
    .option('--duration <d>', 'stop after this long (30s, 10m, 1h); default: until Ctrl-C')
    .option('--feeds <kind>', 'live (real endpoints) or sim (the simulated market)', 'live')
    .option('--seed <n>', 'simulator seed with --feeds sim', '1')
    .action(async (o: Record<string, string>) => {
      let names: ReturnType<typeof parseFeedNames>;
      try {
        names = parseFeedNames(o.venues!);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      if (o.feeds !== 'live' && o.feeds !== 'sim')
        throw new UsageError(`--feeds must be live or sim, got "${o.feeds}"`);
      const duration = o.duration === undefined ? undefined : parseDuration(o.duration);
      loadDotEnv();
      const config = loadConfig();
      requireWritable(o.out!, '--out');
      // the first line before the feeds' modules load (decoders, websocket and HTTP clients, the simulator)
      process.stderr.write(
        `record: ${names.join(', ')} (${o.feeds}) → ${o.out}${duration ? ` for ${o.duration}` : ' until Ctrl-C'}\n`,
      );
      const [
        { startRecording },
        { createCaptureWriter },
        { onShutdownSignal },
        { wallClock },
        { createLogger },
        { createFeedDecoders },
        { createLiveFeed },
        { createSimHub },
      ] = await Promise.all([
        import('../../capture/record.ts'),
        import('../../capture/writer.ts'),
        import('../../core/agent.ts'),
        import('../../core/clock.ts'),
        import('../../core/log.ts'),
        import('../../venues/registry.ts'),
        import('../../venues/live-feeds.ts'),
        import('../../venues/sim/feed.ts'),
      ]);
      const log = createLogger(config.logLevel);
      const clock = wallClock();
      const hub =
        o.feeds === 'sim' ? createSimHub({ seed: parseIntOpt('--seed', o.seed!), clock }) : undefined;
      let recording: Recording | undefined;
      const sources: FrameSource[] = names.map((n) =>
        hub
          ? hub.source(`sim-${n}`, [`${n}.`])
          : createLiveFeed(n, {
              config,
              clock,
              log,
              decoders: createFeedDecoders(n),
              // a websocket shard that drops while the others stay up: a marker for its instruments
              onDisconnect: (tokenIds) =>
                recording?.disconnected(n === 'polymarket' ? 'polymarket.ws.market' : `${n}.ws`, tokenIds),
            }),
      );
      const out = createCaptureWriter({ path: o.out! });
      // frames from a venue or an oracle, not the connection-state markers a live feed inserts while it is down
      let real = 0;
      const started = Date.now();
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      let starting: Promise<Recording> | undefined;
      let stopping: Promise<void> | undefined;
      const stop = (why: string): Promise<void> => {
        stopping ??= (async () => {
          // a signal while the sources are still connecting waits for them, then stops them
          const s = starting ? await (await starting).stop() : { frames: 0, bytes: 0 };
          if (!starting) await out.close();
          process.stderr.write(
            `record: ${why}; wrote ${s.frames} frames (${(s.bytes / 1e6).toFixed(2)} MB) to ${o.out} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
          );
          if (real === 0) {
            process.stderr.write(
              `pm-arb: record: nothing was recorded from ${names.join(', ')}: no feed sent data (are they reachable ` +
                'from here? check the network, a proxy, or the *_WS_URL settings)\n',
            );
            process.exitCode = 1;
          }
          done();
        })();
        return stopping;
      };
      const offSignal = onShutdownSignal((sig) => stop(`stopped by ${sig}`));
      starting = startRecording({
        sources,
        writer: out,
        tee: (f) => {
          const d = f.data as { type?: unknown } | null;
          if (!(d && typeof d === 'object' && d.type === 'connection')) real++;
        },
        onStartError: (name, err) =>
          process.stderr.write(
            `record: ${name} could not start (${err instanceof Error ? err.message : String(err)}); recording the others\n`,
          ),
      });
      recording = await starting;
      // the first line said what is recorded before anything loaded; this one, that frames now flow to the file
      if (!stopping) process.stderr.write(`record: recording (${names.length} feeds started)\n`);
      const keepAlive = setInterval(() => {}, 1 << 30);
      const timer =
        duration !== undefined
          ? setTimeout(() => void stop(`duration ${o.duration} reached`), duration)
          : undefined;
      await finished;
      if (timer) clearTimeout(timer);
      clearInterval(keepAlive);
      offSignal();
    });
}
