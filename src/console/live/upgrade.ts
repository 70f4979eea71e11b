/**
 * WebSocket upgrades through the Express chain. Node hands an `Upgrade:` request to the server's
 * 'upgrade' event, outside Express, so before this a feed checked its own token and nothing
 * counted it. Here every upgrade request is run through the app like any request (correlation id,
 * header guards, token identification, the per-principal / per-IP request limiter, 401, the
 * route's role check) on a ServerResponse bound to the raw socket: a refused upgrade gets the same
 * problem+json answer (401, 403, 429 with Retry-After) and the socket is closed after it. A route
 * that serves WebSocket takes the socket with takeUpgrade() and completes the handshake.
 *
 * A browser WebSocket cannot set headers: an `access_token` query parameter (RFC 6750 §2.3) is
 * read as the bearer token when no Authorization header is sent.
 */
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
}

const pending = new WeakMap<IncomingMessage, PendingUpgrade>();

/** Whether `req` is an upgrade request whose socket no route has taken yet. */
export function isPendingUpgrade(req: IncomingMessage): boolean {
  return pending.has(req);
}

/**
 * The raw socket and first bytes of `req` when it is an upgrade request not yet taken; the caller
 * then owns the socket (the HTTP response is detached from it).
 */
export function takeUpgrade(req: IncomingMessage, res: ServerResponse): PendingUpgrade | undefined {
  const upgrade = pending.get(req);
  if (!upgrade) return undefined;
  pending.delete(req);
  res.detachSocket(upgrade.socket as Socket);
  return upgrade;
}

/** The token of an `access_token` query parameter, as an Authorization header value. */
function accessTokenHeader(url: string | undefined): string | undefined {
  const query = (url ?? '').split('?')[1];
  const token = query === undefined ? null : new URLSearchParams(query).get('access_token');
  return token ? `Bearer ${token}` : undefined;
}

/**
 * Runs every upgrade request of `server` through `app`. Only GET without a body can be an
 * upgrade (RFC 6455 §4.1); anything else is answered 400 at once.
 * @returns the function that stops it.
 */
export function routeUpgradesThrough(
  server: Server,
  app: (req: IncomingMessage, res: ServerResponse) => void,
): () => void {
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (req.method !== 'GET' || req.headers['content-length'] !== undefined || req.headers['transfer-encoding']) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (req.headers.authorization === undefined) {
      const header = accessTokenHeader(req.url);
      if (header !== undefined) req.headers.authorization = header;
    }
    pending.set(req, { socket, head });
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    // Answered over HTTP (refused, or not a WebSocket route): the socket ends with the answer.
    res.on('finish', () => {
      if (!pending.delete(req)) return;
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
    app(req, res);
  };
  server.on('upgrade', onUpgrade);
  return () => server.off('upgrade', onUpgrade);
}
