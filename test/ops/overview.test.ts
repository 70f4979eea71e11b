/**
 * GET /ops/overview: one glance at what needs a person. With no worker running, an order's saga
 * stays open, becomes stuck, and its command waits on the inventory queue; a poison message
 * counts as a dead letter. All against the real queues and tables.
 */
import { sendMessages } from '../../src/messaging/sender';
import { http } from '../support/http';
import { as } from '../support/auth';
import { eventually, startTestService, type TestService } from '../support/service';
import { newEvent, placeOrder, type Problem } from './helpers';

interface Overview {
  checkedAt: string;
  sagas: { open: number; stuck: number; truncated: boolean };
  deadLetters: number;
  queues: Record<string, { visible: number; inFlight: number; delayed: number }>;
  links: Record<string, string>;
}

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ STUCK_AFTER_MS: '1000' }, { inProcessWorkers: false, label: 'ov' });
});
afterAll(async () => {
  await service?.stop();
});

const overview = async () => {
  const res = await http<Overview>(service.baseUrl, 'GET', '/ops/overview', undefined, as.operator());
  expect(res.status).toBe(200);
  return res.body;
};

it('counts open and stuck sagas, queue depths and dead letters', async () => {
  const quiet = await overview();
  expect(quiet).toMatchObject({
    sagas: { open: 0, stuck: 0, truncated: false },
    deadLetters: 0,
    unknownMachineVersion: { sagas: 0, byVersion: {}, problem: null },
  });
  expect(Object.keys(quiet.queues).sort()).toEqual([
    'dlq',
    'dlqFifo',
    'inventory',
    'notification',
    'payment',
    'saga',
    'timer',
  ]);

  const eventId = await newEvent(service.baseUrl, 10);
  await placeOrder(service.baseUrl, eventId, 'tok_success', 1);
  await placeOrder(service.baseUrl, eventId, 'tok_success', 2);
  await sendMessages(service.core.clients.sqs, service.core.queues.dlq, [{ body: '{"not":"an envelope"}' }]);

  // Nobody consumes: both sagas stay in reserving, past the 1-s threshold, their commands queued.
  const busy = await eventually(overview, (o) => o.sagas.stuck === 2 && o.deadLetters === 1, 15000);
  expect(busy.sagas).toEqual({ open: 2, stuck: 2, truncated: false });
  expect(busy.queues.inventory.visible + busy.queues.inventory.inFlight).toBe(2);
  expect(busy.links).toEqual({
    stuck: '/ops/sagas/stuck',
    deadLetters: '/ops/dlq',
    machineVersions: '/ops/sagas/machine-versions',
  });
  const listing = await http<{ items: unknown[]; total: number }>(
    service.baseUrl,
    'GET',
    '/ops/sagas/stuck?limit=1',
    undefined,
    as.operator(),
  );
  expect(listing.body).toMatchObject({ total: 2 });
  expect(listing.body.items).toHaveLength(1);
});

it('takes no query and answers only GET', async () => {
  const withQuery = await http<Problem>(service.baseUrl, 'GET', '/ops/overview?verbose=1', undefined, as.operator());
  expect(withQuery.status).toBe(400);
  const post = await http<Problem>(service.baseUrl, 'POST', '/ops/overview', {}, as.operator());
  expect(post.status).toBe(405);
});
