/**
 * /console: the operators' pages, server-rendered (src/console/pages.ts), and their static assets
 * under /console/assets/ (CSS, the page script) — everything local, nothing from the network.
 * Repairs are not routes here: the page script calls /ops with the version it was shown.
 */
import express, { type Request, type Response, type Router } from 'express';
import { routeOf, type Route, type RouteInput } from '../http/route';
import { emptyQuerySchema, ORDER_ID_PARAM } from '../http/schemas';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  assessStuck,
  isKnownMachineVersion,
  START_VERSION,
  knownMachineVersions,
  ORDER_STATUS_BY_STATE,
  type OrderSagaState,
  type OrderStatus,
} from '../../machines/order-saga';
import type { ConsoleDeps } from './deps';
import { renderDiagram } from './diagram';
import { ASSETS_PREFIX, esc } from './html';
import type { ConsoleRoom } from './deps';
import { orderSagaLayout, orderSagaModel } from './order-saga-model';
import { summarizeVersionWaits, versionWaits } from '../ops/version-waits';
import {
  dlqPage,
  loginPage,
  machinePage,
  overviewPage,
  sagaDetailPage,
  sagaListPage,
  sagaLiveFragment,
  type SagaDetailData,
} from './pages';
import { replay } from './replay';
import { inspectorRelayPage } from './inspector-relay';
import { readNotification, readPayment, readReservation } from '../participants/records';
import {
  AGE_MS,
  consoleListQuerySchema,
  machinePageQuerySchema,
  sagaPageQuerySchema,
  type ConsoleListQuery,
  type MachinePageQuery,
  type SagaPageQuery,
} from './schemas';
import { ProblemError } from '../http/problem';
import { principalOf } from '../http/auth/principal';

/** Where the assets live: src/console/assets, found from the sources or from a build in dist/. */
export const CONSOLE_ASSETS_DIR =
  [join(__dirname, 'assets'), join(process.cwd(), 'src', 'console', 'assets')].find((dir) =>
    existsSync(join(dir, 'console.js')),
  ) ?? join(process.cwd(), 'src', 'console', 'assets');

/** The console's static files (not operations: mounted beside the routes, public: they hold no data). */
export function mountConsoleAssets(router: Router): void {
  router.use(ASSETS_PREFIX, express.static(CONSOLE_ASSETS_DIR, { fallthrough: true, index: false, maxAge: 0 }));
}

function html(res: Response, body: string): void {
  res.setHeader('Cache-Control', 'no-store');
  res.type('text/html; charset=utf-8').send(body);
}

/** Everything the saga page shows, read now. Undefined when there is no such saga. */
export async function sagaDetail(deps: ConsoleDeps, orderId: string): Promise<SagaDetailData | undefined> {
  const saga = await deps.store.load(orderId);
  if (!saga) return undefined;
  const history = await deps.store.history(orderId);
  const now = (deps.now ?? (() => new Date()))();
  // The saga's own machine version: the one it runs to its end on. A version this build lacks is
  // an operational wait (/ops/overview): the page says so instead of drawing another machine.
  const version = saga.saga.machineVersion;
  const model = isKnownMachineVersion(version) ? orderSagaModel(version) : null;
  const steps = replay(saga.saga, history);
  const taken = new Set<string>();
  const visited = new Set<string>();
  for (const h of history) {
    if (h.fromState) visited.add(h.fromState);
    const t = model?.transitions.find(
      (x) => x.source === h.fromState && x.event === h.eventType && x.target === h.toState,
    );
    if (t) taken.add(t.id);
  }
  const records = { doc: deps.doc, tables: deps.tables };
  const reservationId = saga.saga.context.reservation?.reservationId;
  const [reservation, payment, notification] = await Promise.all([
    reservationId ? readReservation(records, reservationId) : Promise.resolve(undefined),
    readPayment(records, orderId),
    readNotification(records, `${orderId}:SendNotification`),
  ]);
  const svg = model
    ? renderDiagram(await orderSagaLayout(version), { current: saga.sagaState, taken, visited })
    : `<p class="flash error" id="unknown-machine-version">This saga runs on machine version ${esc(version)}, which this build does not have (it has ${knownMachineVersions().join(', ')}): its events wait for a build that does.</p>`;
  return {
    saga,
    steps,
    model,
    svg,
    stuck: assessStuck(saga, now, deps.stuckAfterMs),
    reservation,
    payment,
    notification,
    now,
  };
}

type Page<Q = Record<string, never>> = (
  room: ConsoleRoom,
  input: RouteInput<Q>,
  req: Request,
  res: Response,
) => Promise<void> | void;

const overview: Page = async ({ deps, listing }, _input, _req, res) => {
  // One scan of the open sagas feeds the stuck count, the per-state counts and the version waits.
  const [scan, queues] = await Promise.all([deps.stuck.scanOpen(), deps.queueDepths()]);
  const stuck = deps.stuck.judge(scan, 1);
  const counts = await listing.countsByState(scan.sagas);
  const svg = renderDiagram(await orderSagaLayout(), { counts });
  html(
    res,
    overviewPage({
      open: stuck.scanned,
      stuck: stuck.total,
      deadLetters: queues.dlq.visible + queues.dlq.inFlight + queues.dlqFifo.visible + queues.dlqFifo.inFlight,
      queues,
      counts,
      svg,
      checkedAt: stuck.checkedAt,
      versionWaits: summarizeVersionWaits(versionWaits(scan.sagas)),
    }),
  );
};

const sagaList: Page<ConsoleListQuery> = async ({ listing }, { query: q }, _req, res) => {
  const filter = {
    q: q.q || undefined,
    state: (q.state || undefined) as OrderSagaState | undefined,
    status: (q.status || undefined) as OrderStatus | undefined,
    customerId: q.customer || undefined,
    eventId: q.event || undefined,
    maxAgeMs: q.age ? AGE_MS[q.age] : undefined,
    stuck: q.stuck === '1',
    open: q.open === '1',
    ageLabel: q.age,
  };
  const page = await listing.list(filter, q.limit ?? 25, q.cursor || undefined);
  const params = new URLSearchParams(
    Object.entries(q)
      .filter(([k, v]) => k !== 'cursor' && v !== undefined && v !== '')
      .map(([k, v]) => [k, String(v)]),
  );
  html(res, sagaListPage(filter, page.rows, page.nextCursor, params, Object.keys(ORDER_STATUS_BY_STATE)));
};

const sagaPage: Page<SagaPageQuery> = async ({ deps }, { query, params }, _req, res) => {
  const { orderId } = params;
  const found = await sagaDetail(deps, orderId);
  if (!found) throw new ProblemError('not-found', `no saga for order ${orderId}`);
  // Who looks decides which repair actions the page offers (src/console/story.ts).
  const principal = principalOf(res);
  const detail = { ...found, viewer: { sub: principal.sub, roles: [...principal.roles] } };
  html(res, query.fragment === 'live' ? sagaLiveFragment(detail) : sagaDetailPage(detail));
};

const machine: Page<MachinePageQuery> = async ({ deps }, { query }, _req, res) => {
  const { version = deps.startVersion ?? START_VERSION } = query;
  html(
    res,
    machinePage(
      orderSagaModel(version),
      renderDiagram(await orderSagaLayout(version)),
      version,
      deps.stuckAfterMs,
      knownMachineVersions(),
    ),
  );
};

const route = routeOf<ConsoleRoom>();

/** The console's pages. */
export const PAGE_ROUTES: ReadonlyArray<Route<ConsoleRoom>> = [
  route({
    method: 'get',
    path: '/console',
    roles: ['operator'],
    summary: 'Console: overview',
    tag: 'console',
    query: emptyQuerySchema,
    ok: { 200: 'html' },
    problems: [400],
    handle: overview,
  }),
  route<ConsoleListQuery>({
    method: 'get',
    path: '/console/sagas',
    roles: ['operator'],
    summary: 'Console: saga list',
    tag: 'console',
    query: consoleListQuerySchema,
    ok: { 200: 'html' },
    problems: [400],
    handle: sagaList,
  }),
  route<SagaPageQuery>({
    method: 'get',
    path: '/console/sagas/:orderId',
    roles: ['operator'],
    summary: 'Console: one saga',
    tag: 'console',
    query: sagaPageQuerySchema,
    params: { orderId: ORDER_ID_PARAM },
    ok: { 200: 'html' },
    problems: [400, 404],
    handle: sagaPage,
  }),
  route<MachinePageQuery>({
    method: 'get',
    path: '/console/machine',
    roles: ['operator'],
    summary: 'Console: the machine, one version at a time (?version=, default the start version)',
    tag: 'console',
    query: machinePageQuerySchema,
    ok: { 200: 'html' },
    problems: [400],
    handle: machine,
  }),
  route({
    method: 'get',
    path: '/console/dlq',
    roles: ['operator'],
    summary: 'Console: dead letters',
    tag: 'console',
    query: emptyQuerySchema,
    ok: { 200: 'html' },
    problems: [400],
    handle: async ({ deps }, _input, _req, res) => html(res, dlqPage(await deps.deadLetters.list(50))),
  }),
  route({
    method: 'get',
    path: '/console/login',
    // Public: the sign-in page holds no data (src/http/route.ts publicRequests).
    roles: [],
    summary: 'Console: sign in (token kept in sessionStorage)',
    tag: 'console',
    query: emptyQuerySchema,
    ok: { 200: 'html' },
    problems: [400],
    handle: (_room, _input, _req, res) => html(res, loginPage()),
  }),
  route({
    method: 'get',
    path: '/favicon.ico',
    // Public: browsers ask for it on their own, without the page's token; it holds no data.
    roles: [],
    summary: "The console's icon (SVG; pages link /console/assets/favicon.svg)",
    tag: 'console',
    query: emptyQuerySchema,
    ok: { 200: 'any' },
    problems: [400],
    handle: (_room, _input, _req, res) => {
      res.type('image/svg+xml').sendFile(join(CONSOLE_ASSETS_DIR, 'favicon.svg'));
    },
  }),
  route({
    method: 'get',
    path: '/console/inspect/:orderId',
    roles: ['operator'],
    summary: "Console: relay a saga's inspector feed to Stately's inspector (INSPECTOR_RELAY=on)",
    tag: 'console',
    query: emptyQuerySchema,
    params: { orderId: ORDER_ID_PARAM },
    ok: { 200: 'html' },
    problems: [400],
    handle: ({ inspectorRelay }, { params }, _req, res) =>
      html(res, inspectorRelayPage(params.orderId, inspectorRelay)),
  }),
];
