/**
 * The cost meter: what this process's AWS calls would be billed on-demand, measured per call, not
 * estimated from averages.
 *
 * - Every DynamoDB data call asks for `ReturnConsumedCapacity: INDEXES` (added just before the SDK's
 *   serializer, so it covers the document client and the plain client alike): the total, and the
 *   engine's split by table and global secondary index (`MeteredCall.byTarget`), at no extra cost.
 * - Capacity units per call (`meteredUnits`): the engine's report, where it gave one that AWS could
 *   give; AWS's rules on the item sizes where it gave none; the larger of the two for transactions:
 *   - write: 1 WRU per started KB of each item written (Put: the item; Update: its key and SET
 *     values, a lower bound since the untouched attributes are unknown; Delete, ConditionCheck: 1),
 *     2x inside TransactWriteItems;
 *   - read: 1 RRU per started 4 KB read strongly consistent, half of it eventually consistent
 *     (GetItem per item, Query/Scan on the sum of the items), 2x inside TransactGetItems; at least
 *     one unit per call even when nothing is found.
 *   Why the report alone for single-item and batch calls: AWS's report is exact, and the sizes the
 *   meter can see are a lower bound of it (an Update's untouched attributes, the larger of the old
 *   and new item, the GSI writes are not in the request), so on AWS the old max(report, sizes) was
 *   the report; DynamoDB Local reports these calls as AWS does. The sizes of every call were CPU
 *   spent for nothing (issue 25).
 *   Where the report is not taken alone:
 *   - no report (an error AWS still bills, a caller that chose its own ReturnConsumedCapacity, an
 *     engine that answers none): the sizes;
 *   - a report AWS could not give — zero, or a fraction of a unit for a write or a strongly
 *     consistent read (moto's 0.5 for every UpdateItem and GetItem): the larger of it and the sizes;
 *   - transactions: the larger of the report and the sizes, for an engine that does not double them
 *     (moto reports no TransactWriteItems at all; DynamoDB Local 2026-01-16 doubles them, and adds
 *     the GSI writes, checked on 2026-12-06).
 *   moto's other single-item figures are its own flat ones and are now taken as they are: 1 per
 *   PutItem, DeleteItem, Query and Scan, 0.5 per eventually consistent GetItem, 1 per key of a
 *   BatchGetItem, 1 per table of a BatchWriteItem, whatever the sizes (docs/benchmarks.md, "How the
 *   cost is measured").
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

/**
 * Size of a DynamoDB number: about one byte per two significant digits, plus one (AWS rule). The
 * significant digits are the mantissa's, without sign, point, leading and trailing zeros.
 */
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
  if (Array.isArray(v.L)) {
    let size = 3;
    for (const e of v.L as unknown[]) size += 1 + attributeValueSize(e);
    return size;
  }
  if (v.M && typeof v.M === 'object') return 3 + itemSize(v.M as Record<string, unknown>, 1);
  let size = 0;
  if (Array.isArray(v.SS)) for (const s of v.SS as string[]) size += utf8(s);
  else if (Array.isArray(v.NS)) for (const s of v.NS as string[]) size += numberSize(s);
  else if (Array.isArray(v.BS)) for (const b of v.BS as Uint8Array[]) size += b.byteLength;
  else return 1;
  return size;
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
  if (Array.isArray(value)) {
    let size = 3;
    for (const e of value as unknown[]) size += 1 + plainValueSize(e);
    return size;
  }
  if (value instanceof Set) {
    let size = 0;
    for (const e of value as Set<unknown>) size += plainValueSize(e);
    return size;
  }
  if (typeof value === 'object') return 3 + plainItemSize(value as Record<string, unknown>, 1);
  return 1;
}

function plainItemSize(item: Record<string, unknown> | undefined, perEntry = 0): number {
  if (!item) return 0;
  let size = 0;
  for (const name in item) size += utf8(name) + perEntry + plainValueSize(item[name]);
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

/** Bytes of one item of a response. `plain` when the document client already unmarshalled it. */
const responseItemSize = (item: unknown, plain: boolean): number =>
  plain ? plainItemSize(rec(item)) : itemSize(rec(item));

/** Units the AWS rules give for one DynamoDB call by its item sizes: [wru, rru]. */
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
        // One operation per entry: Put, Update, Delete or ConditionCheck.
        const [kind, op] = Object.entries(entry)[0] ?? ['', {}];
        wru += 2 * writeOpUnits(kind, rec(op) ?? {});
      }
      return [wru, 0];
    }
    case 'GetItem':
      return [0, readUnits(responseItemSize(output?.Item, plain), input.ConsistentRead === true)];
    case 'Query':
    case 'Scan': {
      let size = 0;
      for (const item of (output?.Items ?? []) as unknown[]) size += responseItemSize(item, plain);
      return [0, readUnits(size, input.ConsistentRead === true && !input.IndexName)];
    }
    case 'BatchGetItem': {
      let rru = 0;
      const responses = (output?.Responses ?? {}) as Record<string, unknown[]>;
      for (const table in responses) {
        const consistent = rec(rec(input.RequestItems)?.[table])?.ConsistentRead === true;
        for (const item of responses[table]) rru += readUnits(responseItemSize(item, plain), consistent);
      }
      return [0, rru];
    }
    case 'TransactGetItems': {
      let rru = 0;
      for (const r of (output?.Responses ?? []) as Input[]) rru += 2 * readUnits(responseItemSize(r.Item, plain), true);
      return [0, rru];
    }
    default:
      return [0, 0]; // control plane (CreateTable, DescribeTable, ...): not billed per request
  }
}

/** What the meter knows of one operation, worked out once per command (no string work per call). */
interface Operation {
  service: MeteredCall['service'];
  /** `GetItem`, `SendMessageBatch`. */
  name: string;
  /** `DynamoDB.GetItem`: the key of CostTotals.requests. */
  key: string;
  /** DynamoDB: a data call, billed per request unit (the meter asks it for ConsumedCapacity). */
  metered: boolean;
  /** DynamoDB: read units (else write units). */
  read: boolean;
  /** DynamoDB: TransactWriteItems or TransactGetItems (the report is checked against the sizes). */
  transaction: boolean;
}

const DYNAMODB_READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const DYNAMODB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** Operations by service and by SDK command name (`GetItemCommand`, or an operation's own name). */
const OPERATIONS = { DynamoDB: new Map<string, Operation>(), SQS: new Map<string, Operation>() };

/** The operation a command name (the SDK's `context.commandName`) stands for, cached. */
function operationOf(service: Operation['service'], commandName: unknown): Operation {
  const command = typeof commandName === 'string' ? commandName : 'unknown';
  const known = OPERATIONS[service].get(command);
  if (known) return known;
  const name = command.replace(/Command$/, '');
  const read = service === 'DynamoDB' && DYNAMODB_READS.has(name);
  const operation: Operation = {
    service,
    name,
    key: `${service}.${name}`,
    metered: read || (service === 'DynamoDB' && DYNAMODB_WRITES.has(name)),
    read,
    transaction: name === 'TransactWriteItems' || name === 'TransactGetItems',
  };
  OPERATIONS[service].set(command, operation);
  return operation;
}

interface ConsumedCapacity {
  TableName?: string;
  CapacityUnits?: number;
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

/**
 * Units the engine reported (ConsumedCapacity: one object, or a list for batches and transactions);
 * undefined when it reported none (absent, an empty list, no CapacityUnits).
 */
function reportedUnits(consumed: unknown): number | undefined {
  if (Array.isArray(consumed)) {
    let units: number | undefined;
    for (const c of consumed as Array<ConsumedCapacity | undefined>) {
      const u = c?.CapacityUnits;
      if (typeof u === 'number') units = (units ?? 0) + u;
    }
    return units;
  }
  const u = (consumed as ConsumedCapacity | undefined)?.CapacityUnits;
  return typeof u === 'number' ? u : undefined;
}

/** Adds one ConsumedCapacity's split by table and GSI to `targets`: the table, then its GSIs. */
function addTargets(targets: TargetUnits[], c: ConsumedCapacity | undefined, kind: TargetUnits['kind']): void {
  if (!c?.TableName) return;
  const table = c.TableName;
  const indexes = c.GlobalSecondaryIndexes ?? {};
  // An engine that reports only the total: all of it is the table's.
  const tableUnits = c.Table?.CapacityUnits ?? (Object.keys(indexes).length > 0 ? 0 : (c.CapacityUnits ?? 0));
  if (tableUnits > 0) targets.push({ table, kind, units: tableUnits });
  for (const index in indexes) {
    const units = indexes[index]?.CapacityUnits ?? 0;
    if (units > 0) targets.push({ table, index, kind, units });
  }
}

/** The engine's report split by table and GSI (ReturnConsumedCapacity: INDEXES). */
function reportedTargets(consumed: unknown, kind: TargetUnits['kind']): TargetUnits[] {
  const targets: TargetUnits[] = [];
  if (Array.isArray(consumed)) for (const c of consumed as ConsumedCapacity[]) addTargets(targets, c, kind);
  else addTargets(targets, consumed as ConsumedCapacity | undefined, kind);
  return targets;
}

/**
 * The units one DynamoDB data call is metered at — read units for a read, write units for a write:
 * the engine's report where AWS could have given it; AWS's rules on the item sizes where the engine
 * gave none, or one AWS could not give (zero, or a fraction of a unit for a write or a strongly
 * consistent read), the larger of the two then; the larger of the two for transactions, always
 * (the header comment says why). `operation` is the API's name (`GetItem`), `input` the marshalled
 * input, `output` the response (undefined after an error AWS still bills), `plain` when the
 * document client already unmarshalled the response's items.
 */
export function meteredUnits(operation: string, input: Input, output: Input | undefined, plain: boolean): number {
  return unitsOf(operationOf('DynamoDB', operation), input, output, plain);
}

function unitsOf(op: Operation, input: Input, output: Input | undefined, plain: boolean): number {
  const reported = reportedUnits(output?.ConsumedCapacity);
  if (
    reported !== undefined &&
    reported > 0 &&
    !op.transaction &&
    (Number.isInteger(reported) || (op.read && input.ConsistentRead !== true))
  )
    return reported;
  const [wru, rru] = computeDynamoUnits(op.name, input, output, plain);
  return Math.max(op.read ? rru : wru, reported ?? 0);
}

/** A string's UTF-8 bytes at most, without encoding it: 3 per UTF-16 unit (4 per surrogate pair). */
const utf8AtMost = (s: string): number => 3 * s.length;
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Bytes of one SQS message: its body and attributes (names, types, values). */
function messageBytes(m: Input, size: (s: string) => number): number {
  let bytes = size(text(m.MessageBody ?? m.Body));
  const attributes = rec(m.MessageAttributes);
  for (const name in attributes) {
    const a = rec(attributes[name]);
    bytes += size(name) + size(text(a?.DataType)) + size(text(a?.StringValue));
    if (a?.BinaryValue instanceof Uint8Array) bytes += a.BinaryValue.byteLength;
  }
  return bytes;
}

/** Bytes of an SQS call's payload: the messages sent or received. */
function payloadBytes(operation: string, input: Input, output: Input | undefined, size: (s: string) => number): number {
  if (operation === 'SendMessage') return messageBytes(input, size);
  const messages =
    operation === 'SendMessageBatch' ? input.Entries : operation === 'ReceiveMessage' ? output?.Messages : undefined;
  let bytes = 0;
  if (Array.isArray(messages)) for (const m of messages as Input[]) bytes += messageBytes(m, size);
  return bytes;
}

/**
 * SQS requests as billed for one call: one per started 64 KB of payload (message bodies and
 * attributes, in UTF-8 bytes), at least one (AWS SQS pricing). `operation` is the API's name
 * (`SendMessageBatch`); `output` is read for ReceiveMessage only.
 */
export function sqsBilledRequests(operation: string, input: Input, output: Input | undefined): number {
  // Nearly every payload is far under 64 KB: the bound without encoding says so, and is one request.
  if (payloadBytes(operation, input, output, utf8AtMost) <= SQS_CHUNK) return 1;
  return Math.max(1, Math.ceil(payloadBytes(operation, input, output, utf8) / SQS_CHUNK));
}

/** A call's price on provisioned capacity at 70% utilization (PROVISIONED_PRICES). */
export function provisionedDollars(call: Pick<MeteredCall, 'wru' | 'rru' | 'sqsBilled' | 'fifo'>): number {
  const p = PROVISIONED_PRICES;
  return call.wru * p.wru + call.rru * p.rru + call.sqsBilled * (call.fifo ? p.sqsFifo : p.sqsStandard);
}

/** Errors after which AWS still bills the call (a condition was evaluated, the units consumed). */
const BILLED_ERRORS = new Set(['ConditionalCheckFailedException', 'TransactionCanceledException']);

/** A metered call with its provisioned price worked out, as the totals and listeners get it. */
type PricedCall = MeteredCall & { dollarsProvisioned: number };

/** The SDK's handler context, as far as the meter reads it. */
interface MeterContext {
  commandName?: string;
  /** The document client marks its calls (feature DDB_MAPPER): their outputs are unmarshalled. */
  __aws_sdk_context?: { features?: Record<string, unknown> };
}

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
    const call: PricedCall =
      metered.dollarsProvisioned === undefined
        ? { ...metered, dollarsProvisioned: provisionedDollars(metered) }
        : (metered as PricedCall);
    this.add(`${call.service}.${call.operation}`, call);
  }

  /** `record` for the meter's own calls: the requests key is the operation's, already made. */
  private add(key: string, call: PricedCall): void {
    const t = this.totals;
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

  /** A call that is not billed per request: control plane, or an error AWS does not bill. */
  private addUnbilled(op: Operation): void {
    this.add(op.key, {
      service: op.service,
      operation: op.name,
      wru: 0,
      rru: 0,
      sqsBilled: 0,
      fifo: false,
      dollars: 0,
      dollarsProvisioned: 0,
    });
  }

  /** One DynamoDB data call: its units (meteredUnits), priced, with the engine's split by target. */
  private addDynamoDb(op: Operation, input: Input, output: Input | undefined, context: MeterContext): void {
    const plain = context.__aws_sdk_context?.features?.DDB_MAPPER !== undefined;
    const units = unitsOf(op, input, output, plain);
    const call: PricedCall = {
      service: 'DynamoDB',
      operation: op.name,
      // Only listeners read the split: no listener, no split worked out.
      byTarget:
        this.listeners.length > 0 ? reportedTargets(output?.ConsumedCapacity, op.read ? 'read' : 'write') : undefined,
      wru: op.read ? 0 : units,
      rru: op.read ? units : 0,
      sqsBilled: 0,
      fifo: false,
      dollars: units * (op.read ? PRICES.rru : PRICES.wru),
      dollarsProvisioned: 0,
    };
    call.dollarsProvisioned = provisionedDollars(call);
    this.add(op.key, call);
  }

  /** Adds ReturnConsumedCapacity: INDEXES to every DynamoDB data call, and meters each call. */
  attachDynamoDb(client: DynamoDBClient): void {
    // Before the serializer, so the parameter is in the request the engine sees (plain or
    // marshalled input alike: it is not an attribute value).
    const addParameter: InitializeMiddleware<object, MetadataBearer> = (next, context) => (args) => {
      const input = args.input as Input;
      if (input.ReturnConsumedCapacity !== undefined || !operationOf('DynamoDB', context.commandName).metered)
        return next(args);
      return next({ ...args, input: { ...input, ReturnConsumedCapacity: 'INDEXES' } });
    };
    client.middlewareStack.addRelativeTo(addParameter, {
      relation: 'before',
      toMiddleware: 'serializerMiddleware',
      name: 'eventticketReturnConsumedCapacity',
    });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = operationOf('DynamoDB', context.commandName);
        if (!op.metered) {
          this.addUnbilled(op);
          return next(args);
        }
        const input = args.input as Input; // marshalled here (the build step runs after serialization)
        try {
          const result = await next(args);
          this.addDynamoDb(op, input, rec(result.output), context);
          return result;
        } catch (error) {
          if (BILLED_ERRORS.has((error as Error)?.name)) this.addDynamoDb(op, input, undefined, context);
          else this.addUnbilled(op);
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
        const op = operationOf('SQS', context.commandName);
        const input = args.input as Input;
        let output: Input | undefined;
        try {
          const result = await next(args);
          output = rec(result.output);
          return result;
        } finally {
          this.addSqs(op, input, output);
        }
      },
      { step: 'initialize', name: 'eventticketCostMeter', priority: 'low' },
    );
  }

  private addSqs(op: Operation, input: Input, output: Input | undefined): void {
    const fifo = typeof input.QueueUrl === 'string' && input.QueueUrl.endsWith('.fifo');
    const billed = sqsBilledRequests(op.name, input, output);
    const call: PricedCall = {
      service: 'SQS',
      operation: op.name,
      wru: 0,
      rru: 0,
      sqsBilled: billed,
      fifo,
      dollars: billed * (fifo ? PRICES.sqsFifo : PRICES.sqsStandard),
      dollarsProvisioned: 0,
    };
    call.dollarsProvisioned = provisionedDollars(call);
    this.add(op.key, call);
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
