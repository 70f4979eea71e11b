/**
 * The HTTP half of the hostile corpus: sends each generated request to a running API (raw
 * node:http, so repeated headers and bad escapes reach the server as written) and classifies the
 * answer. Rules: a 4xx must be problem+json; a 5xx is a bug; a rejected request that was not a
 * read must leave the state digest unchanged (an accepted one re-baselines it).
 */
import fc from 'fast-check';
import { request as httpRequest } from 'node:http';
import { requestArb, type CorpusContext, type HostileRequest } from './corpus';

export type HttpOutcome = '2xx' | '4xx problem+json' | '4xx not problem+json' | '5xx' | 'other status' | 'no answer';

export interface HttpFuzzReport {
  inputs: number;
  byOutcome: Record<string, number>;
  byStatus: Record<string, number>;
  /** Rejected inputs after which the digest had changed. */
  stateChanged: number;
  /** Other spellings of a route's path sent, and how many were served (2xx) instead of refused: must be 0. */
  spellings: { sent: number; served: number };
  /** Up to 20 examples of each violation: 5xx, 4xx without problem+json, no answer, state changed. */
  violations: Array<{ outcome: string; status: number; label: string; method: string; path: string; detail: string }>;
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

function send(baseUrl: string, req: HostileRequest): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: req.headers,
        timeout: 15000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error('timed out')));
    r.on('error', reject);
    r.end(req.body);
  });
}

function classify(answer: Answer, method: string): HttpOutcome {
  if (answer.status >= 200 && answer.status < 300) return '2xx';
  if (answer.status >= 500) return '5xx';
  if (answer.status >= 400) {
    if (!answer.contentType.startsWith('application/problem+json')) return '4xx not problem+json';
    // A HEAD answer has the headers of the GET answer and no body (RFC 9110 §9.3.2).
    if (method === 'HEAD') return '4xx problem+json';
    try {
      const body = JSON.parse(answer.body) as { status?: unknown; type?: unknown };
      return body.status === answer.status && typeof body.type === 'string'
        ? '4xx problem+json'
        : '4xx not problem+json';
    } catch {
      return '4xx not problem+json';
    }
  }
  return 'other status';
}

export interface HttpFuzzOptions {
  baseUrl: string;
  ctx: CorpusContext;
  inputs: number;
  seed: number;
  digest: () => Promise<string>;
  onProgress?: (done: number, report: HttpFuzzReport) => void;
}

export async function runHttpFuzz(options: HttpFuzzOptions): Promise<HttpFuzzReport> {
  const report: HttpFuzzReport = {
    inputs: 0,
    byOutcome: {},
    byStatus: {},
    stateChanged: 0,
    spellings: { sent: 0, served: 0 },
    violations: [],
  };
  const requests = fc.sample(requestArb(options.ctx), { numRuns: options.inputs, seed: options.seed });
  const examples = new Map<string, number>();
  const violation = (outcome: string, status: number, req: HostileRequest, detail: string) => {
    const seen = examples.get(outcome) ?? 0;
    examples.set(outcome, seen + 1);
    if (seen < 20)
      report.violations.push({
        outcome,
        status,
        label: req.label,
        method: req.method,
        path: req.path.slice(0, 120),
        detail: detail.slice(0, 300),
      });
  };
  let baseline = await options.digest();
  for (const req of requests) {
    let answer: Answer | undefined;
    let outcome: HttpOutcome;
    try {
      answer = await send(options.baseUrl, req);
      outcome = classify(answer, req.method);
    } catch (error) {
      outcome = 'no answer';
      violation(outcome, 0, req, error instanceof Error ? error.message : String(error));
    }
    report.inputs++;
    report.byOutcome[outcome] = (report.byOutcome[outcome] ?? 0) + 1;
    if (answer) report.byStatus[answer.status] = (report.byStatus[answer.status] ?? 0) + 1;
    if (answer && outcome !== '2xx' && outcome !== '4xx problem+json')
      violation(outcome, answer.status, req, answer.body);
    if (req.spelled) {
      report.spellings.sent++;
      // A spelling is never served: a 2xx means it reached a handler (and maybe skipped its limiter).
      if (outcome === '2xx') {
        report.spellings.served++;
        violation('spelling served', answer?.status ?? 0, req, answer?.body ?? '');
      }
    }
    // Reads never write; check every write-method answer, and the reads every 100 inputs.
    if (req.method !== 'GET' || report.inputs % 100 === 0) {
      const now = await options.digest();
      if (now !== baseline && (outcome !== '2xx' || req.spelled)) {
        report.stateChanged++;
        violation('state changed', answer?.status ?? 0, req, `status ${answer?.status}`);
      }
      baseline = now;
    }
    options.onProgress?.(report.inputs, report);
  }
  return report;
}
