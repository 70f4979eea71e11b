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
 * new steps are found by polling the saga's version (workers are other processes).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { isFinalState, isKnownMachineVersion, machineVersion, orderSagaMachine } from '../../machines/order-saga';
import { replay, type ReplayedStep } from '../console/replay';
import { bearerTokenOf } from '../api/auth/authenticate';
import { hasRole } from '../api/auth/principal';
import type { TokenVerifier } from '../api/auth/verifier';
import type { SagaStore } from '../store/saga-store';
import type { Logger } from './logger';

/** The @statelyai/inspect version whose frames these are. */
export const INSPECT_PROTOCOL_VERSION = '0.7.2';

// One spelling of the path, as the HTTP routes (src/api/router.ts): case-sensitive, no trailing slash;
// the order id, a parameter, may be in either case (it is lowercased, as orderIdParam does).
const PATH = /^\/sagas\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\/inspect$/;

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
  store: SagaStore;
  logger: Logger;
  /** How often an open feed polls the saga's version (ms); default 1000. */
  pollMs?: number;
  /** Verifies the caller's bearer token; the feed is for the operator role (docs/security.md). */
  verify: TokenVerifier;
}

/**
 * The bearer token of an upgrade request: its Authorization header, or (for WebSocket clients that
 * cannot set headers, such as @statelyai/inspect's receiver) an `access_token` query parameter,
 * which RFC 6750 §2.3 allows for exactly this case.
 */
function upgradeToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string') return bearerTokenOf(header);
  const query = (req.url ?? '').split('?')[1];
  return query === undefined ? undefined : (new URLSearchParams(query).get('access_token') ?? undefined);
}

/** Answers a refused upgrade with a plain HTTP status before any WebSocket handshake. */
function refuse(socket: Duplex, status: '401 Unauthorized' | '403 Forbidden'): void {
  const challenge = status.startsWith('401') ? 'WWW-Authenticate: Bearer realm="eventticket"\r\n' : '';
  socket.end(`HTTP/1.1 ${status}\r\n${challenge}Content-Length: 0\r\n\r\n`);
}

/** Serves the feed on `server`'s upgrade requests to /sagas/:orderId/inspect. Other upgrades are refused. */
export function attachInspectorFeed(server: Server, deps: InspectorFeedDeps): { close: () => Promise<void> } {
  const wss = new WebSocketServer({ noServer: true });
  const pollMs = deps.pollMs ?? 1000;
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const match = PATH.exec((req.url ?? '').split('?')[0] ?? '');
    if (!match) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const token = upgradeToken(req);
    if (!token) {
      refuse(socket, '401 Unauthorized');
      return;
    }
    deps.verify(token).then(
      (principal) => {
        if (!hasRole(principal, 'operator')) {
          refuse(socket, '403 Forbidden');
          return;
        }
        wss.handleUpgrade(req, socket, head, (ws) => void feed(ws, match[1].toLowerCase()));
      },
      (error: unknown) => {
        deps.logger.info('inspector feed: token refused', { error: String(error) });
        refuse(socket, '401 Unauthorized');
      },
    );
  };
  const feed = async (ws: WebSocket, orderId: string): Promise<void> => {
    let open = true;
    ws.on('close', () => (open = false));
    ws.on('error', () => (open = false));
    let sent = 0;
    try {
      while (open) {
        const saga = await deps.store.load(orderId);
        if (!saga) {
          ws.close(4404, `no saga for order ${orderId}`);
          return;
        }
        if (saga.sagaVersion > sent) {
          const history = await deps.store.history(orderId);
          for (const event of inspectionEvents(
            orderId,
            replay(saga.saga, history),
            sent,
            machineDefinitionJson(saga.saga.machineVersion),
          ))
            ws.send(JSON.stringify(event));
          sent = history.at(-1)?.version ?? sent;
        }
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    } catch (error) {
      deps.logger.warn('inspector feed failed', { orderId, error: String(error) });
      if (open) ws.close(1011, 'feed failed');
    }
  };
  server.on('upgrade', onUpgrade);
  return {
    close: async () => {
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
