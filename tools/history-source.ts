/**
 * Where recorded saga histories come from for npm run replay: a deployment's Events table, or a
 * file written by `npm run replay -- --export FILE` (the same JSON, checked against a schema on
 * the way in).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import Ajv from 'ajv';
import { historyEntry, type SagaHistoryEntry, type StoredEventRow } from '../src/store/saga-store';
import type { RecordedSaga } from '../src/ops/replay';

export const HISTORY_FILE_FORMAT = 'eventticket-saga-histories/1';

export interface HistoryFile {
  format: typeof HISTORY_FILE_FORMAT;
  exportedAt: string;
  /** Where the rows were read: an endpoint and prefix, or a note. */
  source: string;
  sagas: RecordedSaga[];
}

const historyFileSchema = {
  type: 'object',
  required: ['format', 'exportedAt', 'source', 'sagas'],
  properties: {
    format: { const: HISTORY_FILE_FORMAT },
    exportedAt: { type: 'string' },
    source: { type: 'string' },
    sagas: {
      type: 'array',
      items: {
        type: 'object',
        required: ['orderId', 'rows'],
        properties: {
          orderId: { type: 'string', minLength: 1 },
          rows: {
            type: 'array',
            items: {
              type: 'object',
              required: ['aggregateId', 'version', 'eventType', 'eventId', 'fromState', 'toState', 'payload'],
              properties: {
                aggregateId: { type: 'string' },
                version: { type: 'integer', minimum: 1 },
                eventType: { type: 'string' },
                eventId: { type: 'string' },
                fromState: { type: ['string', 'null'] },
                toState: { type: 'string' },
                payload: { type: 'object' },
                machineVersion: { type: 'string' },
                commands: { type: 'array', items: { type: 'object', required: ['kind'] } },
              },
            },
          },
        },
      },
    },
  },
} as const;

const validateHistoryFile = new Ajv({ allErrors: false }).compile(historyFileSchema);

export class HistoryFileError extends Error {
  override readonly name: string = 'HistoryFileError';
}

/** Groups Events rows by saga, oldest step first, sagas by id. */
export function groupHistories(rows: readonly SagaHistoryEntry[]): RecordedSaga[] {
  const byId = new Map<string, SagaHistoryEntry[]>();
  for (const row of rows) byId.set(row.aggregateId, [...(byId.get(row.aggregateId) ?? []), row]);
  return [...byId]
    .map(([orderId, list]) => ({ orderId, rows: list.sort((a, b) => a.version - b.version) }))
    .sort((a, b) => a.orderId.localeCompare(b.orderId));
}

/** Every saga history in an Events table (a full, consistent Scan: an offline tool, not a hot path). */
export async function readHistoriesFromTable(
  doc: DynamoDBDocumentClient,
  eventsTable: string,
): Promise<RecordedSaga[]> {
  const rows: SagaHistoryEntry[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: eventsTable, ConsistentRead: true, ExclusiveStartKey }));
    // A step's row carries the saga's snapshot since issue 25 (the commit), and its commands
    // packed: the history is the rest, the commands whole (historyEntry).
    rows.push(...((page.Items ?? []) as StoredEventRow[]).map(historyEntry));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return groupHistories(rows);
}

/** Reads and checks a history file. @throws HistoryFileError naming the first problem. */
export function readHistoryFile(path: string): HistoryFile {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new HistoryFileError(`${path}: not a readable JSON file: ${(error as Error).message}`);
  }
  if (!validateHistoryFile(value)) {
    const first = validateHistoryFile.errors?.[0];
    throw new HistoryFileError(
      `${path}: not a saga history file: ${first?.instancePath || '/'} ${first?.message ?? 'invalid'}`,
    );
  }
  return value;
}

export function writeHistoryFile(
  path: string,
  sagas: RecordedSaga[],
  source: string,
  now: Date = new Date(),
): HistoryFile {
  const file: HistoryFile = { format: HISTORY_FILE_FORMAT, exportedAt: now.toISOString(), source, sagas };
  writeFileSync(path, `${JSON.stringify(file, null, 1)}\n`);
  return file;
}
