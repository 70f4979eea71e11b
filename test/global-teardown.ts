/**
 * jest globalTeardown: stops what test/global-setup.ts started (an existing endpoint is left
 * alone), then fails the run (a throwing globalTeardown makes jest exit 1) when an answer of the
 * tests' apps broke the OpenAPI document (the contract log, src/api/openapi-contract.ts).
 * OPENAPI_CONTRACT_REPORT=1 prints the (operation, status) pairs seen.
 */
import { rmSync } from 'node:fs';
import { CONTRACT_LOG_KEY, HANDLE_KEY, type StartedServices } from './global-setup';
import { summarizeContractLog } from './support/contract';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as Record<string, unknown>)[HANDLE_KEY] as StartedServices | undefined;
  if (started) {
    await Promise.allSettled([started.aws?.stop(), started.redis?.stop()]);
    delete (globalThis as Record<string, unknown>)[HANDLE_KEY];
  }
  const file = (globalThis as Record<string, unknown>)[CONTRACT_LOG_KEY] as string | undefined;
  if (!file) return;
  const summary = summarizeContractLog(file);
  const log = (line: string) => process.stderr.write(`[contract] ${line}\n`);
  log(
    `${summary.checked} answers checked against /openapi.json (${summary.pairs.size} operation/status pairs; ${summary.unmatched} on no operation; ${summary.events} stream events), ${summary.violations.length} violations`,
  );
  if (process.env.OPENAPI_CONTRACT_REPORT === '1')
    for (const [pair, count] of [...summary.pairs].sort()) log(`  ${pair} ×${count}`);
  if (summary.violations.length === 0) {
    rmSync(file, { force: true });
    return;
  }
  const distinct = [...new Set(summary.violations)];
  for (const v of distinct.slice(0, 50)) log(`VIOLATION ${v}`);
  throw new Error(
    `${summary.violations.length} answers broke the OpenAPI document (${distinct.length} distinct; log kept: ${file})`,
  );
}
