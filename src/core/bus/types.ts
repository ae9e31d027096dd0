/**
 * The bus contract. Two transports implement it (in-process and Redis Streams) and one contract suite
 * (test/contract/bus-contract.ts) holds both to it.
 *
 * Semantics:
 * - publish/subscribe by channel; a subscription belongs to a consumer group: consumers of one group share the
 *   messages, every group receives every message;
 * - at-least-once: a message is acked after its handler returns (or when the handler calls `ack()` in manual
 *   mode); one not acked within the visibility timeout is redelivered to another consumer of its group;
 * - a handler that throws is retried; after `maxAttempts` failures, or on failing validation when entering from
 *   outside the process, the message goes to the dead-letter channel with the error and the consumer goes on;
 * - every message has an id, kept across redeliveries, so handlers can recognise duplicates.
 */
import type { Channel } from '../channels.ts';

export interface Envelope<T> {
  /** Message id, unique per publish, identical on redelivery. */
  readonly id: string;
  readonly channel: string;
  readonly body: T;
  /** 1 on first delivery, counts failed and timed-out deliveries. */
  readonly attempt: number;
}

export interface DeliveryControl {
  /** Manual-ack mode: marks the message done. Idempotent. */
  ack(): void;
}

export type Handler<T> = (msg: Envelope<T>, ctl: DeliveryControl) => void | Promise<void>;

export interface SubscribeOptions {
  /** Consumer group: consumers in one group share the work; each group gets every message. */
  readonly group: string;
  /** Consumer name inside the group (default: unique per subscription). */
  readonly consumer?: string;
  /** 'auto' (default): acked when the handler returns. 'manual': the handler (or later code) calls ctl.ack(). */
  readonly ack?: 'auto' | 'manual';
  /** Deliveries before a failing message is dead-lettered (default 3). */
  readonly maxAttempts?: number;
  /** Unacked for longer than this → redelivered to another consumer (default 30 s). */
  readonly visibilityTimeoutMs?: number;
  /** Where a new group starts: only messages published from now on (default) or everything retained. */
  readonly from?: 'new' | 'start';
  /** The group belongs to this subscription alone (e.g. one per process): it is deleted when it closes. */
  readonly ephemeral?: boolean;
  /**
   * Messages of this channel alone do not wake the consumer: they are delivered with the next delivery of another of
   * its subscriptions (before that one's messages), and within this many ms at the latest. For a busy channel that
   * is only background to others (the guardian's ticks, for their stale flags): it spares a wake-up per message.
   * The Redis bus only; the in-process bus delivers at once.
   */
  readonly lazyMs?: number;
}

export interface Subscription {
  /** Stops taking messages; anything delivered but unacked is redelivered to the rest of the group. */
  close(): Promise<void>;
  pause(): void;
  resume(): void;
}

export interface PublishOptions {
  /** Caller-chosen message id (e.g. a deterministic one in replay); default: generated. */
  readonly id?: string;
}

export interface BusStats {
  published: number;
  delivered: number;
  acked: number;
  failed: number;
  deadLettered: number;
  redelivered: number;
}

export interface Bus {
  readonly transport: 'inproc' | 'redis';
  /** Queues a message; returns its id. Use flush() to wait until everything published is durable. */
  publish<T>(channel: Channel<T>, body: T, opts?: PublishOptions): string;
  subscribe<T>(channel: Channel<T>, opts: SubscribeOptions, handler: Handler<T>): Subscription;
  /** Resolves when every message published so far has been handed to the transport (Redis: written). */
  flush(): Promise<void>;
  /** In-process: resolves when every queue is drained and no handler is running. Redis: same as flush. */
  idle(): Promise<void>;
  stats(): BusStats;
  /** The most recent retained messages of a channel (at most `limit`), newest last. Attempt is 1. */
  history<T>(channel: Channel<T>, limit: number): Promise<Envelope<T>[]>;
  /**
   * Holds every write (publishes, acks) until the returned release is called; what is published meanwhile is kept
   * in order and written then. Redis: an agent set starting up holds it so that every agent's consumer groups exist
   * before anything the set publishes reaches Redis (a group made after a write never sees it). flush() waits too.
   */
  hold?(): () => void;
  close(): Promise<void>;
}

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_VISIBILITY_TIMEOUT_MS = 30_000;

export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
