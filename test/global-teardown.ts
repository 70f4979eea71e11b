/** jest globalTeardown: stops what test/global-setup.ts started (an existing endpoint is left alone). */
import { HANDLE_KEY, type StartedServices } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as Record<string, unknown>)[HANDLE_KEY] as StartedServices | undefined;
  if (!started) return;
  await Promise.allSettled([started.aws?.stop(), started.redis?.stop()]);
  delete (globalThis as Record<string, unknown>)[HANDLE_KEY];
}
