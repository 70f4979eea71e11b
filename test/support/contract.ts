/**
 * The contract log of a jest run (src/api/openapi-contract.ts): test/global-setup.ts names it in
 * OPENAPI_CONTRACT_LOG, every app createApp builds appends one JSON line per answer, and
 * test/global-teardown.ts reads it back here and fails the run on any violation.
 */
import { readFileSync } from 'node:fs';
import type { ContractObservation } from '../../src/api/openapi-contract';

export interface ContractSummary {
  /** Answers checked against an operation of the document. */
  checked: number;
  /** Answers on a path or method the document has no operation for (404/405 of unknown routes). */
  unmatched: number;
  /** `GET /orders/{orderId} 404` → how many answers. */
  pairs: Map<string, number>;
  violations: string[];
  /** Events of event streams checked against their x-events. */
  events: number;
}

/** Reads a contract log (JSON lines of ContractObservation); a missing file reads as empty. */
export function summarizeContractLog(file: string): ContractSummary {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const summary: ContractSummary = { checked: 0, unmatched: 0, pairs: new Map(), violations: [], events: 0 };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as ContractObservation;
    if (!o.operation) {
      summary.unmatched++;
      continue;
    }
    summary.checked++;
    summary.events += o.events ?? 0;
    const pair = `${o.operation} ${o.status}`;
    summary.pairs.set(pair, (summary.pairs.get(pair) ?? 0) + 1);
    summary.violations.push(...o.violations);
  }
  return summary;
}
