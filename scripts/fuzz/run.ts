/**
 * One hostile-corpus run, in-process on the emulator and Redis, each half on fresh resources:
 * 1. HTTP: the API alone (no workers, so nothing changes unless a request was accepted), one
 *    customer's order and an event to aim at, then `inputs` generated requests.
 * 2. Queues: the workers alone, `queueInputs` bad messages spread over the consumed queues.
 * Then the invariant checker on both. `ok` when there is no 5xx, no 4xx without problem+json, no
 * unanswered request, no state change after a rejected input, every bad message dead-lettered with
 * its reason, and no invariant violation.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createAwsClients, destroyAwsClients } from '../../src/aws/clients';
import { loadConfig } from '../../src/config/config';
import { initResources } from '../../src/infra/init';
import { resourceNames } from '../../src/infra/resources';
import { resolveQueueUrls } from '../../src/messaging/queues';
import { createLogger } from '../../src/observability/logger';
import { checkInvariants } from '../../tools/invariants';
import { startService } from '../../src/service';
import { generateSigningKey, publicPemOf, signTokenSync, type SigningKey } from '../auth/dev-keys';
import { deleteResources } from '../chaos/runner';
import type { CorpusContext } from './corpus';
import { runHttpFuzz, type HttpFuzzReport } from './http-fuzz';
import { runQueueFuzz, type QueueFuzzReport } from './queue-fuzz';
import { runLiveFuzz, type LiveFuzzReport } from './live-fuzz';
import { stateDigest } from './state';

export interface FuzzOptions {
  inputs: number;
  queueInputs: number;
  seed: number;
  endpoint?: string;
  redisUrl?: string;
  onProgress?: (done: number, report: HttpFuzzReport) => void;
}

export interface FuzzSummary {
  ok: boolean;
  seed: number;
  http: HttpFuzzReport;
  queues: QueueFuzzReport;
  /** Expired tokens on live connections (./live-fuzz.ts). */
  live: LiveFuzzReport;
  invariantViolations: string[];
  durationMs: number;
}

const ISSUER = 'urn:eventticket:fuzz';
/** AUTH_CLOCK_SKEW_SECONDS of the HTTP half: live connections then end within seconds of exp. */
const LIVE_SKEW_SECONDS = 1;
const AUDIENCE = 'eventticket-fuzz';

function env(
  prefix: string,
  key: SigningKey,
  options: FuzzOptions,
  extra: Record<string, string>,
): Record<string, string> {
  const unlimited = '1000000';
  return {
    AWS_ENDPOINT_URL: options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566',
    AWS_REGION: 'us-east-1',
    RESOURCE_PREFIX: prefix,
    REDIS_URL: options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    PORT: '0',
    LOG_LEVEL: process.env.FUZZ_LOG_LEVEL ?? 'error',
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_PUBLIC_KEY: publicPemOf(key),
    MAX_BODY_BYTES: '16384',
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: unlimited,
    RATE_LIMIT_CUSTOMER_PER_MINUTE: unlimited,
    RATE_LIMIT_ORGANIZER_PER_MINUTE: unlimited,
    RATE_LIMIT_OPERATOR_PER_MINUTE: unlimited,
    RATE_LIMIT_ORDERS_PER_MINUTE: unlimited,
    ...extra,
  };
}

/** A token for every identity, and every kind of bad one. */
function tokens(key: SigningKey, customerSub: string): Record<string, string> {
  const stranger = generateSigningKey('stranger-');
  const t = (
    sub: string,
    roles: Parameters<typeof signTokenSync>[1]['roles'],
    over: { key?: SigningKey; ttlSeconds?: number; audience?: string; issuer?: string } = {},
    extra = {},
  ) =>
    signTokenSync(
      over.key ?? key,
      {
        sub,
        roles,
        issuer: over.issuer ?? ISSUER,
        audience: over.audience ?? AUDIENCE,
        ttlSeconds: over.ttlSeconds ?? 3600,
      },
      extra,
    );
  return {
    customer: t(customerSub, ['customer']),
    'another customer': t('fuzz-other', ['customer']),
    organizer: t('fuzz-org', ['organizer']),
    operator: t('fuzz-op', ['operator']),
    'operator-repair': t('fuzz-repair', ['operator-repair']),
    'every role': t('fuzz-all', ['customer', 'organizer', 'operator-repair']),
    'no role': t('fuzz-nobody', []),
    'odd sub': t('a b\u00e9', ['customer']),
    expired: t(customerSub, ['customer'], { ttlSeconds: -3600 }),
    'wrong audience': t(customerSub, ['operator-repair'], { audience: 'someone-else' }),
    'wrong issuer': t(customerSub, ['operator-repair'], { issuer: 'https://evil.example/' }),
    'wrong key': t(customerSub, ['operator-repair'], { key: stranger }),
    'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'x', roles: ['operator-repair'], exp: 9999999999 })).toString('base64url')}.`,
    'HS256 with the public key': t(customerSub, ['operator-repair'], {}, { header: { alg: 'HS256' } }),
    garbage: 'eyJ.eyJ.sig',
    // Token lifetime (AUTH_MAX_TOKEN_LIFETIME_SECONDS): valid signature, refused all the same.
    'valid until 2200': t(customerSub, ['operator-repair'], {}, { claims: { exp: 7_258_118_400 } }),
    'no iat': t(customerSub, ['operator-repair'], {}, { claims: { iat: undefined } }),
  };
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const started = Date.now();
  const key = generateSigningKey('fuzz-');
  const logger = createLogger(process.env.FUZZ_LOG_LEVEL ?? 'error');
  const invariantViolations: string[] = [];

  // ---- HTTP ---------------------------------------------------------------------------------
  const httpPrefix = `fz${Date.now().toString(36)}h-`;
  // A short clock skew, so that the live connections' tokens expire within seconds (./live-fuzz.ts).
  const httpConfig = loadConfig(
    env(httpPrefix, key, options, { SERVICE_MODE: 'api', AUTH_CLOCK_SKEW_SECONDS: String(LIVE_SKEW_SECONDS) }),
  );
  const clients = createAwsClients(httpConfig);
  await initResources(clients, httpPrefix);
  const names = resourceNames(httpPrefix);
  const queues = await resolveQueueUrls(clients.sqs, names);
  const api = await startService(httpConfig, logger, { sweeper: false });
  let http: HttpFuzzReport;
  let live: LiveFuzzReport;
  try {
    const baseUrl = `http://127.0.0.1:${(api.server!.address() as AddressInfo).port}`;
    const customerSub = `fuzz-${randomUUID().slice(0, 8)}`;
    const eventId = `fuzz-ev-${randomUUID().slice(0, 8)}`;
    const toks = tokens(key, customerSub);
    const call = async (method: string, path: string, token: string, body: unknown) => {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    await call('PUT', `/events/${eventId}/inventory`, toks.organizer, {
      eventName: 'Fuzz',
      ticketTypes: [{ ticketType: 'GA', totalQuantity: 100_000, price: 1, currency: 'EUR' }],
    });
    const placed = await call('POST', '/orders', toks.customer, {
      eventId,
      items: [{ ticketType: 'GA', quantity: 1 }],
      paymentToken: 'tok_visa',
    });
    const ctx: CorpusContext = { eventId, orderId: String(placed.orderId), customerSub, tokens: toks };
    http = await runHttpFuzz({
      baseUrl,
      ctx,
      inputs: options.inputs,
      seed: options.seed,
      digest: () => stateDigest(clients, names, queues),
      onProgress: options.onProgress,
    });
    // Expired tokens on live connections: one input per 100 HTTP inputs (each lives seconds).
    const liveBefore = await stateDigest(clients, names, queues);
    live = await runLiveFuzz({
      baseUrl,
      orderId: String(placed.orderId),
      key,
      stranger: generateSigningKey('stranger-'),
      issuer: ISSUER,
      audience: AUDIENCE,
      clockSkewSeconds: LIVE_SKEW_SECONDS,
      inputs: Math.max(20, Math.round(options.inputs / 100)),
      seed: options.seed,
    });
    if ((await stateDigest(clients, names, queues)) !== liveBefore)
      invariantViolations.push('live: state changed while live connections were opened');
    const report = await checkInvariants({ doc: clients.doc, tables: names.tables }, { stuckAfterMs: 24 * 3600_000 });
    invariantViolations.push(...report.violations.map((v) => `http: ${JSON.stringify(v).slice(0, 300)}`));
  } finally {
    await api.stop();
    await deleteResources(clients, names, queues);
    destroyAwsClients(clients);
  }

  // ---- queues -------------------------------------------------------------------------------
  const queuePrefix = `fz${Date.now().toString(36)}q-`;
  const workerConfig = loadConfig(
    env(queuePrefix, key, options, {
      SERVICE_MODE: 'worker',
      RECEIVE_WAIT_SECONDS: '1',
      MESSAGE_LEASE_SECONDS: '3',
      MAX_RECEIVES: '2',
    }),
  );
  const qClients = createAwsClients(workerConfig);
  await initResources(qClients, queuePrefix);
  const qNames = resourceNames(queuePrefix);
  const qUrls = await resolveQueueUrls(qClients.sqs, qNames);
  const workers = await startService(workerConfig, logger, { sweeper: false });
  let queueReport: QueueFuzzReport;
  try {
    // The DLQs are meant to change; the tables and the consumed queues are not.
    const consumed = {
      inventory: qUrls.inventory,
      payment: qUrls.payment,
      notification: qUrls.notification,
      timer: qUrls.timer,
      saga: qUrls.saga,
    };
    const before = await stateDigest(qClients, qNames, consumed);
    queueReport = await runQueueFuzz(qClients, qUrls, options.queueInputs, options.seed);
    const after = await stateDigest(qClients, qNames, consumed);
    if (before !== after)
      invariantViolations.push('queues: a record changed or a message was left behind after bad messages only');
    const report = await checkInvariants({ doc: qClients.doc, tables: qNames.tables }, { stuckAfterMs: 24 * 3600_000 });
    invariantViolations.push(...report.violations.map((v) => `queues: ${JSON.stringify(v).slice(0, 300)}`));
  } finally {
    await workers.stop();
    await deleteResources(qClients, qNames, qUrls);
    destroyAwsClients(qClients);
  }

  const badHttp =
    (http.byOutcome['5xx'] ?? 0) +
    (http.byOutcome['4xx not problem+json'] ?? 0) +
    (http.byOutcome['no answer'] ?? 0) +
    (http.byOutcome['other status'] ?? 0);
  return {
    ok:
      badHttp === 0 &&
      http.stateChanged === 0 &&
      live.overran === 0 &&
      live.bad === 0 &&
      http.spellings.served === 0 &&
      queueReport.missing === 0 &&
      queueReport.deadLettered === queueReport.sent &&
      invariantViolations.length === 0,
    seed: options.seed,
    http,
    live,
    queues: queueReport,
    invariantViolations,
    durationMs: Date.now() - started,
  };
}

export function formatFuzz(s: FuzzSummary): string {
  const lines = [
    `fuzz ${s.ok ? 'OK' : 'FAILED'}: seed ${s.seed}, ${(s.durationMs / 1000).toFixed(1)} s`,
    `  HTTP inputs:  ${s.http.inputs}`,
    ...Object.entries(s.http.byOutcome)
      .sort()
      .map(([k, v]) => `    ${k.padEnd(22)} ${v}`),
    `  by status:    ${Object.entries(s.http.byStatus)
      .map(([k, v]) => `${k}×${v}`)
      .join(' ')}`,
    `  state changed after rejected input: ${s.http.stateChanged}`,
    `  live connections (expired tokens): ${s.live.inputs}: refused ${s.live.refused}, ended at expiry ${s.live.endedAtExpiry}, overran ${s.live.overran}, bad ${s.live.bad}`,
    `  path spellings sent: ${s.http.spellings.sent}; served instead of refused: ${s.http.spellings.served}`,
    `  queue messages: ${s.queues.sent} (${Object.entries(s.queues.byQueue)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
    `    dead-lettered with a reason: ${s.queues.deadLettered}; missing: ${s.queues.missing}`,
    `    reasons: ${Object.entries(s.queues.reasons)
      .map(([k, v]) => `${k} ×${v}`)
      .join('; ')}`,
    `  invariant violations: ${s.invariantViolations.length}`,
  ];
  for (const v of s.http.violations.slice(0, 15))
    lines.push(`  ! ${v.outcome} ${v.status} ${v.method} ${v.path} (${v.label}): ${v.detail}`);
  for (const v of s.live.violations.slice(0, 10)) lines.push(`  ! live: ${v}`);
  for (const m of s.queues.examplesMissing) lines.push(`  ! not dead-lettered on ${m.queue} (${m.label}): ${m.body}`);
  for (const v of s.invariantViolations.slice(0, 10)) lines.push(`  ! ${v}`);
  return lines.join('\n');
}
