/**
 * An SSE response (WHATWG HTML §9.2) registered with LiveConnections: it ends with a final event
 * saying why when its token expires (`event: token-expired`) or the process stops
 * (`event: shutdown`, with a `retry:` hint), then closes. The final events carry no `id:`, so a
 * reconnect's Last-Event-ID is still the last step the client got.
 */
import type { Request, Response } from 'express';
import { principalOf } from '../../http/auth/principal';
import { problemBody } from '../../http/problem';
import type { LiveConnections, LiveEndReason } from './live-connections';

/** A comment line every this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/** The reconnection delay (ms) an SSE client is told to use. */
const RETRY_MS = 1000;
/** After a shutdown, reconnect a little later: another instance, or this one restarted. */
const SHUTDOWN_RETRY_MS = 2000;

export interface SseStream {
  send(id: string, event: string, data: unknown): void;
  closed(): boolean;
  /** Resolves when the stream is closed, by the client or by the server. */
  done: Promise<void>;
  /** Called once when the stream closes (the route unsubscribes its poll here). */
  onClose(cleanup: () => void): void;
}

/** The data of a final event: a problem object (RFC 9457 members) saying why the stream ended. */
export function finalEventData(reason: LiveEndReason, instance: string): Record<string, unknown> {
  return reason === 'token-expired'
    ? problemBody('unauthorized', 'the bearer token expired; reconnect with a fresh token (Last-Event-ID resumes)', {
        instance,
      })
    : problemBody('service-unavailable', 'the server is shutting down; reconnect (Last-Event-ID resumes)', {
        instance,
      });
}

/**
 * Registers the caller's stream (throws the 429/503/401 ProblemError of LiveConnections.open
 * before any byte is written), then answers 200 text/event-stream.
 */
export function openSse(req: Request, res: Response, connections: LiveConnections): SseStream {
  const instance = req.originalUrl.split('?')[0];
  let closed = false;
  const cleanups: Array<() => void> = [];
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(beat);
    handle.release();
    for (const cleanup of cleanups.splice(0)) cleanup();
    resolveDone();
  };
  const handle = connections.open(principalOf(res), (reason) => {
    if (!closed && !res.writableEnded) {
      const retry = reason === 'shutdown' ? `retry: ${SHUTDOWN_RETRY_MS}\n` : '';
      res.write(`${retry}event: ${reason}\ndata: ${JSON.stringify(finalEventData(reason, instance))}\n\n`);
      res.end();
    }
    close();
  });
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.write(`retry: ${RETRY_MS}\n\n`);
  const beat = setInterval(() => {
    if (!closed) res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  beat.unref();
  req.on('close', close);
  res.on('close', close);
  return {
    send: (id, event, data) => {
      if (!closed) res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    closed: () => closed || res.writableEnded,
    done,
    onClose: (cleanup) => (closed ? cleanup() : void cleanups.push(cleanup)),
  };
}
