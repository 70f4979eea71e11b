/**
 * /console: the operators' pages, server-rendered (src/console/pages.ts), and their static assets
 * under /console/assets/ (CSS, the page script) — everything local, nothing from the network.
 * Repairs are not routes here: the page script calls /ops with the version it was shown.
 */
import express, { Router, type Request, type Response } from 'express';
import { apiRouter } from '../router';
import { requireRole } from '../auth/require-role';
import { principalOf } from '../auth/principal';
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
} from '../../../machines/order-saga';
import type { ConsoleDeps } from '../../console/deps';
import { renderDiagram } from '../../console/diagram';
import { ASSETS_PREFIX, esc } from '../../console/html';
import { orderSagaLayout, orderSagaModel } from '../../console/order-saga-model';
import { summarizeVersionWaits, versionWaits } from '../../ops/version-waits';
import {
  dlqPage,
  loginPage,
  machinePage,
  overviewPage,
  sagaDetailPage,
  sagaListPage,
  sagaLiveFragment,
  type SagaDetailData,
} from '../../console/pages';
import { replay } from '../../console/replay';
import { SagaListing } from '../../console/saga-listing';
import { inspectorRelayPage } from '../../console/inspector-relay';
import { readNotification, readPayment, readReservation } from '../../participants/records';
import {
  AGE_MS,
  consoleListQuerySchema,
  machinePageQuerySchema,
  sagaPageQuerySchema,
  type ConsoleListQuery,
  type MachinePageQuery,
  type SagaPageQuery,
} from '../console-schemas';
import { ProblemError } from '../problem';
import { emptyQuerySchema } from '../schemas';
import { queryValidator } from '../validation';
import { orderIdParam, queryOf } from './orders';

const validateList = queryValidator<ConsoleListQuery>(consoleListQuerySchema);
const validatePage = queryValidator<SagaPageQuery>(sagaPageQuerySchema);
const validateNoQuery = queryValidator<Record<string, never>>(emptyQuerySchema);
const validateMachinePage = queryValidator<MachinePageQuery>(machinePageQuerySchema);

/** Where the assets live: src/console/assets, found from the sources or from a build in dist/. */
export const CONSOLE_ASSETS_DIR =
  [join(__dirname, '..', '..', 'console', 'assets'), join(process.cwd(), 'src', 'console', 'assets')].find((dir) =>
    existsSync(join(dir, 'console.js')),
  ) ?? join(process.cwd(), 'src', 'console', 'assets');

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

export function consoleRouter(deps: ConsoleDeps, options: { inspectorRelay?: boolean } = {}): Router {
  const router = apiRouter();
  const listing = new SagaListing({
    doc: deps.doc,
    tables: deps.tables,
    store: deps.store,
    stuck: deps.stuck,
    stuckAfterMs: deps.stuckAfterMs,
    findByOrderNumber: deps.findByOrderNumber,
    now: deps.now,
  });

  router.use(ASSETS_PREFIX, express.static(CONSOLE_ASSETS_DIR, { fallthrough: true, index: false, maxAge: 0 }));

  router.get('/console', requireRole('operator'), async (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
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
  });

  router.get('/console/sagas', requireRole('operator'), async (req: Request, res: Response) => {
    const q = validateList(queryOf(req), 'query');
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
  });

  router.get('/console/sagas/:orderId', requireRole('operator'), async (req: Request, res: Response) => {
    const query = validatePage(queryOf(req), 'query');
    const orderId = orderIdParam(req);
    const found = await sagaDetail(deps, orderId);
    if (!found) throw new ProblemError('not-found', `no saga for order ${orderId}`);
    // Who looks decides which repair actions the page offers (src/console/story.ts).
    const principal = principalOf(res);
    const detail = { ...found, viewer: { sub: principal.sub, roles: [...principal.roles] } };
    html(res, query.fragment === 'live' ? sagaLiveFragment(detail) : sagaDetailPage(detail));
  });

  router.get('/console/machine', requireRole('operator'), async (req: Request, res: Response) => {
    const { version = deps.startVersion ?? START_VERSION } = validateMachinePage(queryOf(req), 'query');
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
  });

  router.get('/console/dlq', requireRole('operator'), async (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    html(res, dlqPage(await deps.deadLetters.list(50)));
  });

  router.get('/console/login', (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    html(res, loginPage());
  });

  router.get('/console/inspect/:orderId', requireRole('operator'), (req: Request, res: Response) => {
    validateNoQuery(queryOf(req), 'query');
    const orderId = orderIdParam(req);
    html(res, inspectorRelayPage(orderId, options.inspectorRelay === true));
  });

  return router;
}
