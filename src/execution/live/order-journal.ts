/**
 * The live client's journal of orders sent: one line per order written (and fsynced) before the order leaves, one
 * when the client saw it end. After a crash (SIGKILL with an order in flight) a new process reads back the orders
 * not known to have ended and re-adopts them: looks each up at its venue by client order id — with the very spec
 * that was sent, so a Polymarket order hash (signed from the decision time) is found too — and tracks it again.
 *
 * A JSON-lines file under DATA_DIR (`live-orders.jsonl`); `open` compacts it to the entries still pending. This is
 * the client layer's record of what it sent, not the executor's intent log: it exists so the venue can be asked
 * about exactly the orders this account may have there.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { LiveOrderSpec } from '../../venues/live/types.ts';
import type { OrderRequest } from '../types.ts';

export interface JournalEntry {
  readonly req: OrderRequest;
  readonly spec: LiveOrderSpec;
  /** Epoch ms the entry was written (injected clock). */
  readonly at: number;
}

type Line = { readonly sent: JournalEntry } | { readonly done: string };

export interface OrderJournal {
  /** Orders sent by an earlier process and not known to have ended (read at open). */
  readonly pending: readonly JournalEntry[];
  /** Before an order is sent (durable on return). */
  sent(e: JournalEntry): void;
  /** The order ended (filled, cancelled, rejected, expired) or was never sent. */
  done(clientOrderId: string): void;
  close(): void;
}

function appendLine(fd: number, line: Line, sync: boolean): void {
  writeSync(fd, `${JSON.stringify(line)}\n`);
  if (sync) fsyncSync(fd);
}

/** Opens (creating) the journal at `path`; a torn last line from a crash is ignored. */
export function openOrderJournal(path: string): OrderJournal {
  mkdirSync(dirname(path), { recursive: true });
  const open = new Map<string, JournalEntry>();
  if (existsSync(path)) {
    for (const raw of readFileSync(path, 'utf8').split('\n')) {
      if (!raw.trim()) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue; // a line cut short by the crash: its order was not sent (the write comes first)
      }
      if ('sent' in line) open.set(line.sent.spec.clientOrderId, line.sent);
      else open.delete(line.done);
    }
  }
  const pending = [...open.values()];
  // compact: rewrite with the pending entries only, then append from there
  const tmp = `${path}.tmp`;
  const t = openSync(tmp, 'w', 0o600);
  for (const e of pending) appendLine(t, { sent: e }, false);
  fsyncSync(t);
  closeSync(t);
  renameSync(tmp, path);
  const fd = openSync(path, 'a', 0o600);
  const ended = new Set<string>();
  let closed = false;
  return {
    pending,
    sent(e) {
      if (closed) return;
      appendLine(fd, { sent: e }, true);
    },
    done(id) {
      if (closed || ended.has(id)) return;
      ended.add(id);
      appendLine(fd, { done: id }, false);
    },
    close() {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}
