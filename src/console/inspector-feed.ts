/**
 * The XState inspector feed of a saga, over WebSocket at /sagas/:orderId/inspect.
 *
 * Frames are what @statelyai/inspect's createWebSocketInspector sends (0.7.2): one JSON text
 * frame per inspection event, so its createWebSocketReceiver reads a live saga:
 *  - `@xstate.actor` with `definition` (the machine config as a JSON string) and the first
 *    snapshot (the saga after ORDER_PLACED);
 *  - then per history step an `@xstate.event` and an `@xstate.snapshot`, `createdAt` the step's
 *    time (epoch ms as a string, as the package writes it).
 * The events are built here: `inspector.actor(...)` of 0.7.2 drops the definition.
 * Snapshots are rebuilt by replaying the history through the machine (src/console/replay.ts);
 * new steps are found by the saga's shared poll (src/console/live/saga-watches.ts: workers are other
 * processes). The upgrade request goes through the API's chain first (token, request limits,
 * operator role: src/console/live/upgrade.ts, src/console/streams.ts); the connection then counts
 * against the caller's STREAM_MAX_PER_CALLER and closes with 4401 "token expired" when the token
 * expires, 1001 at shutdown (docs/security.md, "Live connections").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { isFinalState, isKnownMachineVersion, machineVersion, orderSagaMachine } from '../../machines/order-saga';
import { replay, type ReplayedStep } from './replay';
import type { Principal } from '../http/auth/principal';
import type { Live } from './live/live';
import { takeUpgrade } from './live/upgrade';
import type { Logger } from '../observability/logger';

/** The @statelyai/inspect version whose frames these are. */
export const INSPECT_PROTOCOL_VERSION = '0.7.2';

export interface InspectionSnapshot {
  status: 'active' | 'done';
  value: string;
  context: unknown;
  output: undefined;
  error: undefined;
}

export type InspectionEvent =
  | {
      type: '@xstate.actor';
      name: string;
      sessionId: string;
      createdAt: string;
      _version: string;
      rootId: string;
      parentId: undefined;
      id: null;
      definition: string;
      snapshot: InspectionSnapshot;
    }
  | {
      type: '@xstate.event';
      sourceId: undefined;
      sessionId: string;
      event: Record<string, unknown>;
      id: string;
      createdAt: string;
      rootId: string;
      _version: string;
    }
  | {
      type: '@xstate.snapshot';
      snapshot: InspectionSnapshot;
      event: Record<string, unknown>;
      sessionId: string;
      id: null;
      createdAt: string;
      rootId: string;
      _version: string;
    };

/**
 * The config of machine `version` (default the one in machine.ts) as JSON (functions, which JSON
 * cannot carry, become their names); a version this build lacks gives its machine.ts config.
 */
export function machineDefinitionJson(version?: string): string {
  const machine =
    version !== undefined && isKnownMachineVersion(version) ? machineVersion(version).machine : orderSagaMachine;
  return JSON.stringify(machine.config, (_key, value: unknown) =>
    typeof value === 'function' ? { type: (value as { name?: string }).name || 'inline' } : value,
  );
}

const redact = (context: unknown): unknown => ({ ...(context as Record<string, unknown>), paymentToken: '[redacted]' });

function snapshotOf(step: ReplayedStep): InspectionSnapshot {
  return {
    status: isFinalState(step.state) ? 'done' : 'active',
    value: step.state,
    context: redact(step.context),
    output: undefined,
    error: undefined,
  };
}

const timeOf = (step: ReplayedStep): string => String(Date.parse(step.entry.timestamp));

/** The inspection events of a saga's replayed history: the actor, then event + snapshot per step. */
export function inspectionEvents(
  orderId: string,
  steps: readonly ReplayedStep[],
  fromVersion = 0,
  definition = machineDefinitionJson(),
): InspectionEvent[] {
  const sessionId = `order-saga:${orderId}`;
  const out: InspectionEvent[] = [];
  for (const step of steps) {
    if (step.entry.version <= fromVersion) continue;
    if (step.entry.version === 1) {
      out.push({
        type: '@xstate.actor',
        name: orderSagaMachine.id,
        sessionId,
        createdAt: timeOf(step),
        _version: INSPECT_PROTOCOL_VERSION,
        rootId: sessionId,
        parentId: undefined,
        id: null,
        definition,
        snapshot: snapshotOf(step),
      });
      continue;
    }
    const event = {
      ...step.entry.payload,
      type: step.entry.eventType,
      ...(step.entry.actor ? { actor: step.entry.actor } : {}),
    };
    out.push({
      type: '@xstate.event',
      sourceId: undefined,
      sessionId,
      event,
      id: `${orderId}:${step.entry.version}`,
      createdAt: timeOf(step),
      rootId: sessionId,
      _version: INSPECT_PROTOCOL_VERSION,
    });
    out.push({
      type: '@xstate.snapshot',
      snapshot: snapshotOf(step),
      event,
      sessionId,
      id: null,
      createdAt: timeOf(step),
      rootId: sessionId,
      _version: INSPECT_PROTOCOL_VERSION,
    });
  }
  return out;
}

export interface InspectorFeedDeps {
  logger: Logger;
  /** The process's live connections and shared saga polls (src/console/live/live.ts). */
  live: Live;
}

/** WebSocket close codes of the feed (RFC 6455 §7.4; 4000-4999 are the application's). */
export const FEED_CLOSE = {
  /** The process is stopping: reconnect (to another instance, or this one restarted). */
  shutdown: { code: 1001, reason: 'server shutting down' },
  /** The caller's token expired: reconnect with a fresh one. */
  tokenExpired: { code: 4401, reason: 'token expired' },
  notFound: { code: 4404, reason: 'no saga for this order' },
  failed: { code: 1011, reason: 'feed failed' },
} as const;

export interface InspectorFeed {
  /**
   * Completes the WebSocket handshake of an upgrade request that the API let through (token,
   * limits and role already checked: src/console/live/upgrade.ts) and feeds saga `orderId`.
   * @throws ProblemError (429 past STREAM_MAX_PER_CALLER, 503 while shutting down) before the
   *   handshake, answered over HTTP by the API.
   */
  accept(req: IncomingMessage, res: ServerResponse, principal: Principal, orderId: string): void;
}

/**
 * The feed: each connection is a live connection (per-caller cap, ends with close code 4401 at
 * token expiry and 1001 at shutdown) and reads the saga's shared watch (one poll per saga, however
 * many feeds and streams show it).
 */
export function createInspectorFeed(deps: InspectorFeedDeps): InspectorFeed {
  const wss = new WebSocketServer({ noServer: true });
  return {
    accept: (req, res, principal, orderId) => {
      let ws: WebSocket | undefined;
      // The raw socket, once taken from the HTTP response (after the cap check, which may refuse over HTTP).
      const taken: { socket?: Duplex } = {};
      let ended: { code: number; reason: string } | undefined;
      const handle = deps.live.connections.open(principal, (reason) => {
        ended = reason === 'shutdown' ? FEED_CLOSE.shutdown : FEED_CLOSE.tokenExpired;
        if (ws) {
          ws.close(ended.code, ended.reason);
          // A client that never answers the closing handshake does not hold the socket (or a shutdown).
          const client = ws;
          setTimeout(() => client.terminate(), 2000).unref();
        } else taken.socket?.destroy();
      });
      const upgrade = takeUpgrade(req, res);
      if (!upgrade) {
        handle.release();
        throw new Error('inspector feed: not an upgrade request');
      }
      taken.socket = upgrade.socket;
      // A handshake ws refuses (a bad Sec-WebSocket-Key) never reaches the callback: free the place.
      upgrade.socket.once('close', () => ws === undefined && handle.release());
      wss.handleUpgrade(req, upgrade.socket, upgrade.head, (client) => {
        ws = client;
        if (ended) {
          client.close(ended.code, ended.reason);
          return;
        }
        feed(client, orderId, handle);
      });
    },
  };

  function feed(ws: WebSocket, orderId: string, handle: { release(): void }): void {
    let sent = 0;
    let sending: Promise<void> = Promise.resolve();
    const watch = deps.live.sagas.watch(orderId, (saga) => {
      sending = sending.then(async () => {
        if (ws.readyState !== ws.OPEN) return;
        if (!saga) {
          ws.close(FEED_CLOSE.notFound.code, `no saga for order ${orderId}`);
          return;
        }
        if (saga.sagaVersion <= sent) return;
        try {
          // Snapshots are rebuilt by replaying the whole history (the watch reads each row once).
          const history = await watch.rowsAfter(0);
          for (const event of inspectionEvents(
            orderId,
            replay(saga.saga, history),
            sent,
            machineDefinitionJson(saga.saga.machineVersion),
          ))
            ws.send(JSON.stringify(event));
          sent = history.at(-1)?.version ?? sent;
        } catch (error) {
          deps.logger.warn('inspector feed failed', { orderId, error: String(error) });
          ws.close(FEED_CLOSE.failed.code, FEED_CLOSE.failed.reason);
        }
      });
    });
    const stop = () => {
      watch.close();
      handle.release();
    };
    ws.on('close', stop);
    ws.on('error', stop);
  }
}
