/**
 * The cost meter: what this process's AWS calls would be billed on-demand, measured per call, not
 * estimated from averages.
 *
 * - Every DynamoDB data call asks for `ReturnConsumedCapacity: INDEXES` (added just before the SDK's
 *   serializer, so it covers the document client and the plain client alike): the total, and the
 *   engine's split by table and global secondary index (`MeteredCall.byTarget`), at no extra cost.
 * - Capacity units per call = max(what the engine reports, what the item sizes give by AWS's rules):
 *   - write: 1 WRU per started KB of each item written (Put: the item; Update: its key and SET
 *     values, a lower bound since the untouched attributes are unknown; Delete, ConditionCheck: 1),
 *     2x inside TransactWriteItems;
 *   - read: 1 RRU per started 4 KB read strongly consistent, half of it eventually consistent
 *     (GetItem per item, Query/Scan on the sum of the items), 2x inside TransactGetItems; at least
 *     one unit per call even when nothing is found.
 *   Engines differ: AWS reports exact units; DynamoDB Local reports single-item calls right but
 *   transactions at 1x; moto reports no transaction at all and rounds others its own way. The max
 *   keeps the exact figure where the engine has one and the AWS rule where it has not.
 *   Source: AWS DynamoDB developer guide, "Read/write capacity mode" and "Item sizes".
 * - SQS: one billed request per started 64 KB of payload (AWS SQS pricing), FIFO priced apart.
 *
 * Prices, two ways (issue 25, decision 5), us-east-1 list prices, standard table class, free tiers
 * ignored; docs/benchmarks.md names them:
 *  - on-demand (PRICES): as published by AWS since 2024-11-01 (DynamoDB's on-demand cut);
 *  - provisioned capacity (PROVISIONED_PRICES): $0.00065 per WCU-hour and $0.00013 per RCU-hour
 *    (aws.amazon.com/dynamodb/pricing/provisioned, as listed on 2024-11-01, unchanged since), with
 *    auto scaling holding a 70% target utilization: a unit used costs the capacity-second it took
 *    divided by 0.7. SQS has no provisioned mode: its requests cost the same both ways.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';

/** US dollars per unit (on-demand, us-east-1, 2024-11-01). */
export const PRICES = {
  /** per write request unit: $0.625 per million. */
  wru: 0.625e-6,
  /** per read request unit: $0.125 per million. */
  rru: 0.125e-6,
  /** per SQS standard-queue request (64 KB chunk): $0.40 per million. */
  sqsStandard: 0.4e-6,
  /** per SQS FIFO-queue request (64 KB chunk): $0.50 per million. */
  sqsFifo: 0.5e-6,
} as const;

/** Auto scaling's target utilization the provisioned prices assume (70%, DynamoDB's default). */
export const PROVISIONED_TARGET_UTILIZATION = 0.7;
const SECONDS_PER_HOUR = 3600;

/**
 * US dollars per unit used, on provisioned capacity at PROVISIONED_TARGET_UTILIZATION
 * (us-east-1, list prices of 2024-11-01): one WCU-hour is 3,600 writes of a unit, of which 70% are used.
 */
export const PROVISIONED_PRICES = {
  /** per write unit: $0.00065 per WCU-hour / 3,600 s / 0.7 ≈ $0.258 per million. */
  wru: 0.00065 / SECONDS_PER_HOUR / PROVISIONED_TARGET_UTILIZATION,
  /** per read unit: $0.00013 per RCU-hour / 3,600 s / 0.7 ≈ $0.052 per million. */
  rru: 0.00013 / SECONDS_PER_HOUR / PROVISIONED_TARGET_UTILIZATION,
  /** SQS has no provisioned mode: the on-demand request prices. */
  sqsStandard: PRICES.sqsStandard,
  sqsFifo: PRICES.sqsFifo,
} as const;

/** The meter's totals since it was created or last reset. */
export interface CostTotals {
  /** Calls made, by `Service.Operation` (one per SDK call, retries not counted again). */
  requests: Record<string, number>;
  dynamodbRequests: number;
  /** Write / read request units. */
  wru: number;
  rru: number;
  /** SQS requests as billed: one per started 64 KB, standard and FIFO apart. */
  sqsBilledStandard: number;
  sqsBilledFifo: number;
  /** US dollars at PRICES (on-demand). */
  dollars: number;
  /** US dollars at PROVISIONED_PRICES (provisioned capacity at 70% utilization). */
  dollarsProvisioned: number;
}

/** Units the engine reported for one table or one of its global secondary indexes. */
export interface TargetUnits {
  table: string;
  /** The GSI's name; absent for the table itself. */
  index?: string;
  /** Read units for a read call, write units for a write. */
  kind: 'read' | 'write';
  units: number;
}

/** One metered call, for listeners (the Prometheus counters). */
export interface MeteredCall {
  service: 'DynamoDB' | 'SQS';
  operation: string;
  /**
   * DynamoDB: the units as the engine reported them, split by table and GSI (empty where it
   * reports none, e.g. moto's transactions). Write units for writes, read units for reads.
   */
  byTarget?: TargetUnits[];
  wru: number;
  rru: number;
  sqsBilled: number;
  fifo: boolean;
  /** On-demand price of the call (PRICES). */
  dollars: number;
  /** Its price on provisioned capacity at 70% utilization (PROVISIONED_PRICES). */
  dollarsProvisioned?: number;
}

const KB = 1024;
const SQS_CHUNK = 64 * KB;
const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Size of a DynamoDB number: about one byte per two significant digits, plus one (AWS rule). */
function numberSize(n: string): number {
  const digits = n
    .replace(/^-/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Bytes of one marshalled AttributeValue ({S}, {N}, {M}, ...), by AWS's item-size rules. */
export function attributeValueSize(value: unknown): number {
  if (value === null || typeof value !== 'object') return 1;
  const v = value as Record<string, unknown>;
  if (typeof v.S === 'string') return utf8(v.S);
  if (typeof v.N === 'string') return numberSize(v.N);
  if (v.B instanceof Uint8Array) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (Array.isArray(v.L)) return 3 + (v.L as unknown[]).reduce<number>((sum, e) => sum + 1 + attributeValueSize(e), 0);
  if (v.M && typeof v.M === 'object') return 3 + itemSize(v.M as Record<string, unknown>, 1);
  if (Array.isArray(v.SS)) return (v.SS as string[]).reduce((sum, s) => sum + utf8(s), 0);
  if (Array.isArray(v.NS)) return (v.NS as string[]).reduce((sum, s) => sum + numberSize(s), 0);
  if (Array.isArray(v.BS)) return (v.BS as Uint8Array[]).reduce((sum, b) => sum + b.byteLength, 0);
  return 1;
}

/** Bytes of a marshalled item: attribute names plus values (+ `perEntry` per attribute inside maps). */
export function itemSize(item: Record<string, unknown> | undefined, perEntry = 0): number {
  if (!item) return 0;
  let size = 0;
  for (const name in item) size += utf8(name) + perEntry + attributeValueSize(item[name]);
  return size;
}

/** Bytes of an unmarshalled (plain JS) value as DynamoDB would store it. */
export function plainValueSize(value: unknown): number {
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(String(value));
  if (typeof value === 'boolean' || value === null || value === undefined) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, e) => sum + 1 + plainValueSize(e), 0);
  if (value instanceof Set) return [...value].reduce((sum: number, e) => sum + plainValueSize(e), 0);
  if (typeof value === 'object') {
    let size = 3;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) size += utf8(k) + 1 + plainValueSize(v);
    return size;
  }
  return 1;
}

function plainItemSize(item: Record<string, unknown> | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [k, v] of Object.entries(item)) size += utf8(k) + plainValueSize(v);
  return size;
}

const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / KB));
const readUnits = (bytes: number, consistent: boolean): number =>
  Math.max(1, Math.ceil(bytes / (4 * KB))) * (consistent ? 1 : 0.5);

/** An SDK command's input or output, of any command: read field by field. */
type Input = Record<string, unknown>;
/** A field that is a map (an item, a key, a request), or undefined. */
const rec = (v: unknown): Input | undefined => (v && typeof v === 'object' ? (v as Input) : undefined);

/** Lower bound of an Update's item: its key, and the values its expression sets. */
function updateSize(op: Input): number {
  return itemSize(rec(op.Key)) + itemSize(rec(op.ExpressionAttributeValues));
}

/** Write units an operation's input implies (before the 2x of transactions). */
function writeOpUnits(kind: string, op: Input): number {
  if (kind === 'Put') return writeUnits(itemSize(rec(op.Item)));
  if (kind === 'Update') return writeUnits(updateSize(op));
  return 1; // Delete, ConditionCheck: the item's size is unknown here; AWS charges at least 1
}

/**
 * Read units from a response's items. `plain` when the document client already unmarshalled them.
 */
function readItemsUnits(
  items: Array<Record<string, unknown>> | undefined,
  consistent: boolean,
  plain: boolean,
): number {
  const size = (items ?? []).reduce((sum, item) => sum + (plain ? plainItemSize(item) : itemSize(item)), 0);
  return readUnits(size, consistent);
}

/** Units the AWS rules give for one DynamoDB call: [wru, rru]. */
export function computeDynamoUnits(
  operation: string,
  input: Input,
  output: Input | undefined,
  plain: boolean,
): [number, number] {
  switch (operation) {
    case 'PutItem':
      return [writeOpUnits('Put', input), 0];
    case 'UpdateItem':
      return [writeOpUnits('Update', input), 0];
    case 'DeleteItem':
      return [1, 0];
    case 'BatchWriteItem': {
      let wru = 0;
      for (const requests of Object.values((input.RequestItems ?? {}) as Record<string, Input[]>)) {
        for (const r of requests) {
          const put = rec(r.PutRequest);
          wru += put ? writeOpUnits('Put', put) : 1;
        }
      }
      return [wru, 0];
    }
    case 'TransactWriteItems': {
      let wru = 0;
      for (const entry of (input.TransactItems ?? []) as Input[]) {
        const [kind, op] = Object.entries(entry)[0] ?? ['', {}];
        wru += 2 * writeOpUnits(kind, rec(op) ?? {});
      }
      return [wru, 0];
    }
    case 'GetItem':
      return [0, readItemsUnits(output?.Item ? [rec(output.Item)!] : [], input.ConsistentRead === true, plain)];
    case 'Query':
    case 'Scan':
      return [
        0,
        readItemsUnits(output?.Items as Input[] | undefined, input.ConsistentRead === true && !input.IndexName, plain),
      ];
    case 'BatchGetItem': {
      let rru = 0;
      for (const [table, items] of Object.entries(
        (output?.Responses ?? {}) as Record<string, Array<Record<string, unknown>>>,
      )) {
        const consistent = rec(rec(input.RequestItems)?.[table])?.ConsistentRead === true;
        for (const item of items) rru += readItemsUnits([item], consistent, plain);
      }
      return [0, rru];
    }
    case 'TransactGetItems':
      return [
        0,
        ((output?.Responses ?? []) as Input[]).reduce(
          (sum: number, r) => sum + 2 * readItemsUnits(r.Item ? [rec(r.Item)!] : [], true, plain),
          0,
        ),
      ];
    default:
      return [0, 0]; // control plane (CreateTable, DescribeTable, ...): not billed per request
  }
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const METERED = new Set([...READS, 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

interface ConsumedCapacity {
  TableName?: string;
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}
const consumedList = (consumed: unknown): ConsumedCapacity[] =>
  (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as ConsumedCapacity[];

/** Units the engine reported (ConsumedCapacity, one object or a list). */
function reportedUnits(consumed: unknown): number {
  return consumedList(consumed).reduce((sum, c) => sum + (c?.CapacityUnits ?? 0), 0);
}

/** The engine's report split by table and GSI (ReturnConsumedCapacity: INDEXES). */
function reportedTargets(consumed: unknown, kind: TargetUnits['kind']): TargetUnits[] {
  const targets: TargetUnits[] = [];
  for (const c of consumedList(consumed)) {
    if (!c?.TableName) continue;
    const table = c.TableName;
    const indexes = Object.entries(c.GlobalSecondaryIndexes ?? {});
    // An engine that reports only the total: all of it is the table's.
    const tableUnits = c.Table?.CapacityUnits ?? (indexes.length === 0 ? (c.CapacityUnits ?? 0) : 0);
    if (tableUnits > 0) targets.push({ table, kind, units: tableUnits });
    for (const [index, used] of indexes)
      if ((used.CapacityUnits ?? 0) > 0) targets.push({ table, index, kind, units: used.CapacityUnits ?? 0 });
  }
  return targets;
}

/** Bytes of an SQS payload: message bodies and attributes (names, types, values). */
function sqsPayload(operation: string, input: Input, output: Input | undefined): number {
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const messageSize = (m: Input): number =>
    utf8(text(m.MessageBody ?? m.Body)) +
    Object.entries((m.MessageAttributes ?? {}) as Record<string, Input>).reduce(
      (sum, [k, a]) =>
        sum +
        utf8(k) +
        utf8(text(a.DataType)) +
        utf8(text(a.StringValue)) +
        (a.BinaryValue instanceof Uint8Array ? a.BinaryValue.byteLength : 0),
      0,
    );
  if (operation === 'SendMessage') return messageSize(input);
  if (operation === 'SendMessageBatch')
    return ((input.Entries ?? []) as Input[]).reduce((sum, e) => sum + messageSize(e), 0);
  if (operation === 'ReceiveMessage')
    return ((output?.Messages ?? []) as Input[]).reduce((sum, m) => sum + messageSize(m), 0);
  return 0;
}

/** A call's price on provisioned capacity at 70% utilization (PROVISIONED_PRICES). */
export function provisionedDollars(call: Pick<MeteredCall, 'wru' | 'rru' | 'sqsBilled' | 'fifo'>): number {
  const p = PROVISIONED_PRICES;
  return call.wru * p.wru + call.rru * p.rru + call.sqsBilled * (call.fifo ? p.sqsFifo : p.sqsStandard);
}

/** Errors after which AWS still bills the call (a condition was evaluated, the units consumed). */
const BILLED_ERRORS = new Set(['ConditionalCheckFailedException', 'TransactionCanceledException']);

/** Meters one process's AWS clients. Totals are cumulative; `reset()` starts them again. */
export class CostMeter {
  private totals: CostTotals = CostMeter.empty();
  private readonly listeners: Array<(call: MeteredCall) => void> = [];

  private static empty(): CostTotals {
    return {
      requests: {},
      dynamodbRequests: 0,
      wru: 0,
      rru: 0,
      sqsBilledStandard: 0,
      sqsBilledFifo: 0,
      dollars: 0,
      dollarsProvisioned: 0,
    };
  }

  /** A copy of the totals. */
  snapshot(): CostTotals {
    return { ...this.totals, requests: { ...this.totals.requests } };
  }

  reset(): void {
    this.totals = CostMeter.empty();
  }

  onCall(listener: (call: MeteredCall) => void): void {
    this.listeners.push(listener);
  }

  /** Adds one call to the totals (its provisioned price computed when absent) and tells the listeners. */
  record(metered: MeteredCall): void {
    const call = { ...metered, dollarsProvisioned: metered.dollarsProvisioned ?? provisionedDollars(metered) };
    const t = this.totals;
    const key = `${call.service}.${call.operation}`;
    t.requests[key] = (t.requests[key] ?? 0) + 1;
    if (call.service === 'DynamoDB') t.dynamodbRequests += 1;
    t.wru += call.wru;
    t.rru += call.rru;
    if (call.fifo) t.sqsBilledFifo += call.sqsBilled;
    else t.sqsBilledStandard += call.sqsBilled;
    t.dollars += call.dollars;
    t.dollarsProvisioned += call.dollarsProvisioned;
    for (const listener of this.listeners) listener(call);
  }

  /** Adds ReturnConsumedCapacity: INDEXES to every DynamoDB data call, and meters each call. */
  attachDynamoDb(client: DynamoDBClient): void {
    // Before the serializer, so the parameter is in the request the engine sees (plain or
    // marshalled input alike: it is not an attribute value).
    const addParameter: InitializeMiddleware<object, MetadataBearer> = (next, context) => (args) => {
      const input = args.input as Input;
      const operation = String(context.commandName ?? '').replace(/Command$/, '');
      if (input.ReturnConsumedCapacity !== undefined || !METERED.has(operation)) return next(args);
      return next({ ...args, input: { ...input, ReturnConsumedCapacity: 'INDEXES' } });
    };
    client.middlewareStack.addRelativeTo(addParameter, {
      relation: 'before',
      toMiddleware: 'serializerMiddleware',
      name: 'eventticketReturnConsumedCapacity',
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        if (!METERED.has(operation)) {
          this.record({ service: 'DynamoDB', operation, wru: 0, rru: 0, sqsBilled: 0, fifo: false, dollars: 0 });
          return next(args);
        }
        const input = args.input as Input; // marshalled here (the build step runs after serialization)
        // The document client marks its calls; their outputs reach this step already unmarshalled.
        const features = (context as { __aws_sdk_context?: { features?: Record<string, unknown> } }).__aws_sdk_context
          ?.features;
        const plain = features?.DDB_MAPPER !== undefined;
        const meter = (output: Input | undefined): void => {
          const [wru, rru] = computeDynamoUnits(operation, input, output, plain);
          const reported = reportedUnits(output?.ConsumedCapacity);
          const isRead = READS.has(operation);
          const w = isRead ? wru : Math.max(wru, reported);
          const r = isRead ? Math.max(rru, reported) : rru;
          this.record({
            service: 'DynamoDB',
            operation,
            byTarget: reportedTargets(output?.ConsumedCapacity, isRead ? 'read' : 'write'),
            wru: w,
            rru: r,
            sqsBilled: 0,
            fifo: false,
            dollars: w * PRICES.wru + r * PRICES.rru,
          });
        };
        try {
          const result = await next(args);
          meter(rec(result.output));
          return result;
        } catch (error) {
          if (BILLED_ERRORS.has((error as Error)?.name)) meter(undefined);
          else this.record({ service: 'DynamoDB', operation, wru: 0, rru: 0, sqsBilled: 0, fifo: false, dollars: 0 });
          throw error;
        }
      },
      { step: 'build', name: 'eventticketCostMeter', priority: 'low' },
    );
  }

  /** Meters each SQS call: one billed request per started 64 KB of payload. */
  attachSqs(client: SQSClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        const input = args.input as Input;
        const fifo = typeof input.QueueUrl === 'string' && input.QueueUrl.endsWith('.fifo');
        let output: Input | undefined;
        try {
          const result = await next(args);
          output = rec(result.output);
          return result;
        } finally {
          const billed = Math.max(1, Math.ceil(sqsPayload(operation, input, output) / SQS_CHUNK));
          const dollars = billed * (fifo ? PRICES.sqsFifo : PRICES.sqsStandard);
          this.record({ service: 'SQS', operation, wru: 0, rru: 0, sqsBilled: billed, fifo, dollars });
        }
      },
      { step: 'initialize', name: 'eventticketCostMeter', priority: 'low' },
    );
  }
}

/**
 * A new cost meter attached to the clients (the composition root's call, src/service.ts): every
 * later call on `ddb` and `sqs` — and on a document client built on `ddb`, which shares its
 * middleware stack — is metered. Returns the clients with their `meter`.
 */
export function meterClients<C extends { ddb: DynamoDBClient; sqs: SQSClient }>(clients: C): C & { meter: CostMeter } {
  const meter = new CostMeter();
  meter.attachDynamoDb(clients.ddb);
  meter.attachSqs(clients.sqs);
  return { ...clients, meter };
}
