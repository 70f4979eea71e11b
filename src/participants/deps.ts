/** What every participant needs, injected so tests can control the clock, sleeps and jitter. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ResourceNames } from '../infra/resources';
import type { Logger } from '../observability/logger';

export interface ParticipantDeps {
  doc: DynamoDBDocumentClient;
  tables: ResourceNames['tables'];
  logger: Logger;
  now?: () => Date;
  /** Cache invalidation after stock moved; best effort (errors are logged, never thrown). */
  onInventoryChanged?: (eventId: string) => Promise<void>;
  /** How long the simulated gateway takes for `tok_slow`. */
  paymentSlowMs: number;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); for backoff jitter. */
  random?: () => number;
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function nowIso(deps: Pick<ParticipantDeps, 'now'>): string {
  return (deps.now?.() ?? new Date()).toISOString();
}

export async function inventoryChanged(
  deps: Pick<ParticipantDeps, 'onInventoryChanged' | 'logger'>,
  eventId: string,
): Promise<void> {
  if (!deps.onInventoryChanged) return;
  try {
    await deps.onInventoryChanged(eventId);
  } catch (error) {
    deps.logger.warn('inventory change hook failed', { eventId, error });
  }
}
