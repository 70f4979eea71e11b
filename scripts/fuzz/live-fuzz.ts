/**
 * The fuzz kind "expired tokens on live connections" (issue 22): every long-lived route (the saga
 * SSE stream, the list SSE stream, the inspector WebSocket feed) opened with generated tokens:
 * short lifetimes (1-4 s), already expired, refused (a stranger's key), garbage, or none, with a
 * random Last-Event-ID. Each must either be refused at once (a 4xx problem+json, never a 5xx) or
 * be opened and then end by itself with `event: token-expired` / close code 4401 no later than
 * exp + clock skew + a margin. One that outlives its token is an `overran`.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { signTokenSync, type SigningKey } from '../auth/dev-keys';

export interface LiveFuzzReport {
  inputs: number;
  /** Refused at connect with a 4xx problem+json. */
  refused: number;
  /** Opened, then ended by the server at token expiry with the right final event / close code. */
  endedAtExpiry: number;
  /** Still open past exp + skew + margin, or ended without saying why: a violation. */
  overran: number;
  /** 5xx, a 4xx without problem+json, or no answer: a violation. */
  bad: number;
  violations: string[];
}

export interface LiveFuzzOptions {
  baseUrl: string;
  orderId: string;
  key: SigningKey;
  stranger: SigningKey;
  issuer: string;
  audience: string;
  /** AUTH_CLOCK_SKEW_SECONDS of the service. */
  clockSkewSeconds: number;
  inputs: number;
  seed: number;
}

/** How late past exp + skew an end may come (a busy machine), before it counts as overran. */
const MARGIN_MS = 5000;

type Route = 'saga stream' | 'list stream' | 'inspector feed';
type TokenKind = 'short' | 'expired' | 'stranger' | 'garbage' | 'none';

interface LiveInput {
  route: Route;
  token: TokenKind;
  ttlSeconds: number;
  lastEventId: string | undefined;
}

const inputArb: fc.Arbitrary<LiveInput> = fc.record({
  route: fc.constantFrom<Route>('saga stream', 'list stream', 'inspector feed'),
  token: fc.constantFrom<TokenKind>('short', 'short', 'short', 'expired', 'stranger', 'garbage', 'none'),
  ttlSeconds: fc.integer({ min: 1, max: 4 }),
  // Mostly none or a plausible one, so that most short-lived tokens open a connection; sometimes
  // junk (refused with 400). Header values are visible ASCII (fetch refuses others before sending).
  lastEventId: fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.nat({ max: 20 }).map(String) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((v) => v.replace(/[^\x20-\x7e]/g, '')) },
  ),
});

type Outcome = { kind: 'refused' } | { kind: 'ended' } | { kind: 'overran' | 'bad'; detail: string };

export async function runLiveFuzz(options: LiveFuzzOptions): Promise<LiveFuzzReport> {
  const inputs = fc.sample(inputArb, { numRuns: options.inputs, seed: options.seed });
  const report: LiveFuzzReport = { inputs: 0, refused: 0, endedAtExpiry: 0, overran: 0, bad: 0, violations: [] };
  // A few at a time: each lives a few seconds.
  const parallel = 8;
  for (let i = 0; i < inputs.length; i += parallel) {
    const outcomes = await Promise.all(inputs.slice(i, i + parallel).map((input) => tryOne(options, input)));
    outcomes.forEach((outcome, j) => {
      report.inputs++;
      if (outcome.kind === 'refused') report.refused++;
      else if (outcome.kind === 'ended') report.endedAtExpiry++;
      else {
        report[outcome.kind]++;
        const input = inputs[i + j];
        if (report.violations.length < 20)
          report.violations.push(`${outcome.kind} ${input.route} (${input.token}): ${outcome.detail}`);
      }
    });
  }
  return report;
}

function tokenOf(options: LiveFuzzOptions, input: LiveInput): { token?: string; deadline: number } {
  const sign = (key: SigningKey, ttlSeconds: number) =>
    signTokenSync(key, {
      sub: `fuzz-live-${Math.random().toString(36).slice(2, 8)}`,
      roles: ['operator'],
      issuer: options.issuer,
      audience: options.audience,
      ttlSeconds,
    });
  const now = Date.now();
  const deadline = now + (input.ttlSeconds + options.clockSkewSeconds) * 1000 + MARGIN_MS;
  switch (input.token) {
    case 'short':
      return { token: sign(options.key, input.ttlSeconds), deadline };
    case 'expired':
      return { token: sign(options.key, -options.clockSkewSeconds - 60), deadline: now };
    case 'stranger':
      return { token: sign(options.stranger, input.ttlSeconds), deadline: now };
    case 'garbage':
      return { token: 'eyJ.eyJ.sig', deadline: now };
    case 'none':
      return { deadline: now };
  }
}

async function tryOne(options: LiveFuzzOptions, input: LiveInput): Promise<Outcome> {
  const { token, deadline } = tokenOf(options, input);
  // Past the deadline plus the time to connect, the connection is abandoned as overran.
  const giveUpAt = deadline + MARGIN_MS;
  return input.route === 'inspector feed' ? tryFeed(options, token, giveUpAt) : trySse(options, input, token, giveUpAt);
}

const isProblem = (contentType: string | null | undefined) => /application\/problem\+json/.test(contentType ?? '');

async function trySse(
  options: LiveFuzzOptions,
  input: LiveInput,
  token: string | undefined,
  giveUpAt: number,
): Promise<Outcome> {
  const path = input.route === 'saga stream' ? `/sagas/${options.orderId}/stream` : '/sagas/stream';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(0, giveUpAt - Date.now()));
  try {
    const headers: Record<string, string> = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (input.lastEventId !== undefined) headers['Last-Event-ID'] = input.lastEventId;
    const res = await fetch(`${options.baseUrl}${path}`, { headers, signal: controller.signal });
    if (res.status !== 200) {
      await res.text();
      if (res.status >= 400 && res.status < 500 && isProblem(res.headers.get('content-type')))
        return { kind: 'refused' };
      return { kind: 'bad', detail: `status ${res.status} ${res.headers.get('content-type')}` };
    }
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
      text += decoder.decode(chunk, { stream: true });
    const last = text.trim().split('\n\n').at(-1) ?? '';
    return /^event: token-expired\ndata: \{.*"status":401/.test(last)
      ? { kind: 'ended' }
      : { kind: 'overran', detail: `ended without token-expired: ${last.slice(0, 120)}` };
  } catch (error) {
    return controller.signal.aborted
      ? { kind: 'overran', detail: 'still open past exp + skew + margin' }
      : { kind: 'bad', detail: String(error) };
  } finally {
    clearTimeout(timer);
  }
}

function tryFeed(options: LiveFuzzOptions, token: string | undefined, giveUpAt: number): Promise<Outcome> {
  const query = token ? `?access_token=${token}` : '';
  const ws = new WebSocket(`${options.baseUrl.replace('http', 'ws')}/sagas/${options.orderId}/inspect${query}`);
  return new Promise<Outcome>((resolve) => {
    const timer = setTimeout(
      () => {
        ws.terminate();
        resolve({ kind: 'overran', detail: 'feed still open past exp + skew + margin' });
      },
      Math.max(0, giveUpAt - Date.now()),
    );
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      const ok = (res.statusCode ?? 0) >= 400 && (res.statusCode ?? 0) < 500 && isProblem(res.headers['content-type']);
      done(ok ? { kind: 'refused' } : { kind: 'bad', detail: `upgrade answered ${res.statusCode}` });
      ws.terminate();
    });
    ws.on('close', (code, reason) =>
      done(
        code === 4401
          ? { kind: 'ended' }
          : { kind: 'overran', detail: `closed with ${code} ${reason.toString()} instead of 4401` },
      ),
    );
    ws.on('error', (error) => done({ kind: 'bad', detail: String(error) }));
  });
}
