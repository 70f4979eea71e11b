/**
 * The contract check of live traffic against the OpenAPI document (issue 27): each answer's
 * status must be listed for its operation, its content type among that status' media types, and
 * a JSON body must match that media type's schema (ajv, JSON Schema 2020-12, OpenAPI 3.1's
 * dialect, over the document itself so `$ref`s resolve as the document says). An event stream's
 * events must be named in its media type's `x-events` and their data match that event's schema
 * (src/api/openapi-sse.ts). Bodies of text/html answers are checked for their content type only.
 *
 * Used by tests: createApp installs contractLog(file) when OPENAPI_CONTRACT_LOG names a file
 * (test/global-setup.ts sets it), every answer of every app the tests build is checked, and
 * test/global-teardown.ts fails the run when the file holds a violation. A request on a path or
 * method the document has no operation for (a 404 or 405 for an unknown route) is recorded
 * without an operation and is not a violation: the document describes operations, not the rest.
 */
import { appendFileSync } from 'node:fs';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

type Json = Record<string, unknown>;

/** One answer as checked: its operation (`GET /orders/{orderId}`; absent: none matches) and what is wrong. */
export interface ContractObservation {
  method: string;
  /** The request path (no query). */
  path: string;
  operation?: string;
  status: number;
  contentType: string;
  /** What the document does not describe; empty: the answer is as documented. */
  violations: string[];
  /** How many events of an event stream were checked. */
  events?: number;
}

interface Operation {
  name: string;
  pattern: RegExp;
  method: string;
  /** JSON pointer of the operation in the document. */
  pointer: string;
  responses: Record<string, { content?: Record<string, { schema?: unknown; 'x-events'?: Record<string, unknown> }> }>;
}

const pointerToken = (s: string): string => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];
/** The most of a body kept for the check (larger JSON answers are reported as too large to check). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A checker of answers against `doc` (an OpenAPI 3.1 document, as openApiDocument() builds it). */
export class ContractChecker {
  private readonly ajv: Ajv2020;
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(doc: Json) {
    // strict off: the document's schemas carry OpenAPI keywords (discriminator, x-…) ajv does not know.
    this.ajv = addFormats(new Ajv2020({ strict: false, allErrors: true, validateSchema: false }));
    this.ajv.addSchema(doc, 'openapi.json');
    // Concrete paths are matched before templated ones (OpenAPI 3.1 §4.8.8: /sagas/stream before
    // /sagas/{orderId}), whatever order the document lists them in.
    const templates = (path: string) => (path.match(/\{[^}]+\}/g) ?? []).length;
    const paths = Object.entries((doc.paths ?? {}) as Record<string, Json>).sort(
      ([a], [b]) => templates(a) - templates(b),
    );
    for (const [path, item] of paths) {
      const pattern = new RegExp(
        `^${path
          .split(/\{[^}]+\}/)
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]+')}$`,
      );
      for (const method of METHODS) {
        const op = item[method] as { responses?: Operation['responses'] } | undefined;
        if (!op) continue;
        this.operations.push({
          name: `${method.toUpperCase()} ${path}`,
          pattern,
          method,
          pointer: `#/paths/${pointerToken(path)}/${method}`,
          responses: op.responses ?? {},
        });
      }
    }
  }

  /** The operation serving `method path`, if the document has one. */
  operationOf(method: string, path: string): Operation | undefined {
    const m = method.toLowerCase();
    return this.operations.find((o) => o.method === m && o.pattern.test(path));
  }

  /** Checks one answer; `body` is undefined when it was not kept (a stream). */
  check(method: string, path: string, status: number, contentType: string, body?: Buffer): ContractObservation {
    const observation: ContractObservation = { method, path, status, contentType, violations: [] };
    const op = this.operationOf(method, path);
    if (!op) return observation;
    observation.operation = op.name;
    const fail = (why: string) => observation.violations.push(`${op.name} ${status}: ${why}`);
    const statusKey = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => k in op.responses);
    if (!statusKey) {
      fail(`status ${status} is not documented (documented: ${Object.keys(op.responses).join(', ')})`);
      return observation;
    }
    const content = op.responses[statusKey].content;
    if (!content) {
      if (body && body.length > 0) fail(`a body (${contentType || 'no content type'}) where none is documented`);
      return observation;
    }
    const media = contentType.split(';')[0].trim().toLowerCase();
    const mediaKey = Object.keys(content).find((k) => k.toLowerCase() === media) ?? ('*/*' in content ? '*/*' : null);
    if (!mediaKey) {
      fail(
        `content type ${JSON.stringify(contentType)} is not documented (documented: ${Object.keys(content).join(', ')})`,
      );
      return observation;
    }
    const mediaPointer = `openapi.json${op.pointer}/responses/${pointerToken(statusKey)}/content/${pointerToken(mediaKey)}`;
    const events = content[mediaKey]['x-events'];
    if (media === 'text/event-stream' && events && body !== undefined) {
      const checked = this.eventViolations(body.toString('utf8'), mediaPointer, events);
      observation.events = checked.events;
      for (const v of checked.violations) fail(v);
      return observation;
    }
    if (!/^application\/([a-z0-9.+-]+\+)?json$/.test(media) || !content[mediaKey].schema) return observation;
    if (body === undefined) {
      fail('a JSON body too large to check');
      return observation;
    }
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      fail(`the body is not JSON: ${JSON.stringify(body.toString('utf8').slice(0, 200))}`);
      return observation;
    }
    const validate = this.validator(`${mediaPointer}/schema`);
    if (!validate(value))
      fail(
        `the body breaks its schema: ${this.ajv.errorsText(validate.errors, { separator: '; ' })} in ${JSON.stringify(value).slice(0, 500)}`,
      );
    return observation;
  }

  /** What is wrong with the events of an event stream (WHATWG HTML §9.2.6), per `x-events`. */
  private eventViolations(
    stream: string,
    mediaPointer: string,
    events: Record<string, unknown>,
  ): { events: number; violations: string[] } {
    const out: string[] = [];
    let count = 0;
    for (const block of stream.split(/\r?\n\r?\n/)) {
      let name = 'message';
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        const [, field, value] = /^([^:]*)(?::\s?(.*))?$/.exec(line) ?? [];
        if (field === 'event') name = value ?? '';
        else if (field === 'data') data.push(value ?? '');
      }
      if (data.length === 0) continue; // retry:, comments, an unfinished last block
      count++;
      if (!(name in events)) {
        out.push(`event ${JSON.stringify(name)} is not documented (documented: ${Object.keys(events).join(', ')})`);
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(data.join('\n'));
      } catch {
        out.push(`event ${name}: its data is not JSON`);
        continue;
      }
      const validate = this.validator(`${mediaPointer}/x-events/${pointerToken(name)}/data`);
      if (!validate(value))
        out.push(
          `event ${name}: its data breaks its schema: ${this.ajv.errorsText(validate.errors, { separator: '; ' })} in ${JSON.stringify(value).slice(0, 500)}`,
        );
    }
    return { events: count, violations: out };
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, validate);
    }
    return validate;
  }
}

/**
 * Middleware (install it first) that checks every answer with `checker` once it is sent (or, for
 * a stream, closed) and hands the result to `report`. It keeps a copy of each body up to
 * MAX_BODY_BYTES (past it: a stream's content type only). WebSocket upgrades and HEAD requests are
 * not checked.
 */
export function contractCheck(checker: ContractChecker, report: (o: ContractObservation) => void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.headers.upgrade || req.method === 'HEAD') {
      next();
      return;
    }
    const method = req.method;
    const path = req.originalUrl.split('?')[0];
    const chunks: Buffer[] = [];
    let size = 0;
    let kept = true;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (!kept || chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const buffer = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      size += buffer.length;
      if (size > MAX_BODY_BYTES) kept = false;
      else chunks.push(buffer);
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    res.write = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return write(...args);
    }) as Response['write'];
    res.end = ((...args: unknown[]) => {
      keep(args[0], args[1]);
      return end(...args);
    }) as Response['end'];
    // 'finish' when the answer was sent; 'close' alone when the client left first (an event stream).
    let reported = false;
    const done = () => {
      if (reported || !res.headersSent) return;
      reported = true;
      const contentType = String(res.getHeader('content-type') ?? '');
      report(checker.check(method, path, res.statusCode, contentType, kept ? Buffer.concat(chunks) : undefined));
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}

let shared: { key: string; checker: ContractChecker } | undefined;

/**
 * contractCheck over `doc` that appends each observation to `file` as one JSON line (appends are
 * atomic enough for the one process per test file that jest runs at a time).
 */
export function contractLog(file: string, doc: Json): RequestHandler {
  // One checker per document per process: a test file builds many apps, ajv compiles once.
  const key = JSON.stringify(doc);
  if (shared?.key !== key) shared = { key, checker: new ContractChecker(doc) };
  const { checker } = shared;
  return contractCheck(checker, (o) => appendFileSync(file, `${JSON.stringify(o)}\n`));
}
