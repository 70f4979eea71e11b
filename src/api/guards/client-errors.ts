/**
 * Errors raised with a 4xx status by the layers below our routes (Express's router for a path
 * parameter that is not valid percent-encoding, body-parser/raw-body for a truncated gzip body,
 * http-errors in general) are the client's: they become that 4xx as problem+json. Only errors
 * without a 4xx status stay 500s: those are ours.
 */
import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ProblemError, problemBody, type ProblemKind } from '../../http/problem';

const KIND_BY_STATUS: Readonly<Record<number, ProblemKind>> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  413: 'body-too-large',
  415: 'unsupported-media-type',
  429: 'too-many-requests',
};

/** The error's own 4xx status (`status` or `statusCode`, as http-errors sets both), or undefined. */
export function clientStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : typeof statusCode === 'number' ? statusCode : undefined;
  return value !== undefined && Number.isInteger(value) && value >= 400 && value <= 499 ? value : undefined;
}

/** A problem for any error carrying a 4xx status; undefined for everything else. */
export function clientErrorProblem(error: unknown): ProblemError | undefined {
  const status = clientStatusOf(error);
  if (status === undefined) return undefined;
  // http-errors marks 4xx messages as safe to show (`expose`); say nothing more than that.
  const exposed = (error as { expose?: unknown }).expose === true && error instanceof Error ? error.message : undefined;
  const detail = exposed ? `the request could not be read: ${exposed}` : 'the request could not be read';
  const kind = KIND_BY_STATUS[status];
  return kind ? new ProblemError(kind, detail) : new ProblemError('client-error', detail, undefined, { status });
}

/**
 * Requests Node's HTTP parser refuses before Express sees them (a header section over 16 KB, a
 * malformed request line or header) are answered by Node with a bare status line. This answers
 * them as problem+json too: 431 for oversized headers, 400 otherwise (Node's docs: 'clientError').
 */
export function answerParserErrors(server: Server): void {
  // Bytes after a request that declared no body (a GET with unframed data) are parsed as a next
  // request and fail. The request before them is still answered; then the connection closes.
  const answered = new WeakSet<Duplex>();
  server.on('request', (req: { socket: Duplex }) => answered.add(req.socket));
  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (pending && !pending.writableFinished) {
      pending.once('finish', () => socket.end());
      pending.once('close', () => socket.destroy());
      return;
    }
    if (answered.has(socket)) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify(
      problemBody(
        'client-error',
        status === 431 ? 'the request headers are too large' : 'the request could not be parsed as HTTP',
        { status },
      ),
    );
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
