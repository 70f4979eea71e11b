/**
 * GET /metrics on its own port counts a real saga: its steps from -> to, its outcome, and what its
 * AWS calls cost (requests, capacity units, dollars), on the engines of this run. End-to-end: the
 * service with its workers, the API over HTTP, real DynamoDB and SQS engines.
 */
import { eventually, newEvent, startTestService, type TestService } from '../support/service';
import { as } from '../support/auth';
import { http } from '../support/http';

let service: TestService;

beforeAll(async () => {
  service = await startTestService({ METRICS_PORT: '0' }, { label: 'metrics' });
});

afterAll(async () => {
  await service?.stop();
});

/** Parses the Prometheus text format into `name{labels}` -> value. */
function parse(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

const sum = (series: Map<string, number>, prefix: string): number =>
  [...series].filter(([key]) => key.startsWith(prefix)).reduce((total, [, value]) => total + value, 0);

it('counts a completed saga: every step by from -> to, its outcome, and its requests, units and cost', async () => {
  const metricsUrl = service.metricsUrl!;
  const eventId = await newEvent(service.core, 10, 25);
  const placed = await http<{ orderId: string }>(
    service.baseUrl,
    'POST',
    '/orders',
    {
      customerId: 'metrics-1',
      eventId,
      items: [{ ticketType: 'GA', quantity: 1 }],
      paymentToken: 'tok_success',
    },
    { ...as.customer('metrics-1'), 'Idempotency-Key': `metrics-${Date.now()}` },
  );
  expect(placed.status).toBe(202);
  const order = await eventually(
    () =>
      http<{ status: string; version?: number }>(
        service.baseUrl,
        'GET',
        `/sagas/${placed.body.orderId}`,
        undefined,
        as.operator(),
      ),
    (r) => (r.body as { status?: string }).status === 'COMPLETED',
    60000,
  );
  const version = Number((order.body as { version?: number }).version);

  const res = await fetch(metricsUrl);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const m = parse(await res.text());

  // Steps: the create is version 1, each committed step one more version.
  expect(sum(m, 'eventticket_saga_steps_total{')).toBe(version - 1);
  expect(m.get('eventticket_saga_steps_total{from="reserving",to="awaitingPayment"}')).toBe(1);
  expect(sum(m, 'eventticket_saga_steps_total{from="notifying",to="completed"}')).toBe(1);
  expect(m.get('eventticket_saga_step_duration_seconds_count{from="reserving",to="awaitingPayment"}')).toBe(1);
  expect(m.get('eventticket_saga_time_in_state_seconds_count{state="reserving"}')).toBe(1);
  expect(m.get('eventticket_sagas_started_total')).toBe(1);
  expect(m.get('eventticket_orders_finished_total{outcome="completed"}')).toBe(1);

  // Cost: what the meter saw, by AWS's rules. The create is one transaction of several items
  // (>= 4 WRU, as is every participant's); each later step is one conditional PutItem of its Events
  // row, the commit (issue 25), then the projection's UpdateItem: >= 1 WRU each.
  const requests = (operation: string) =>
    m.get(`eventticket_aws_requests_total{service="DynamoDB",operation="${operation}"}`) ?? 0;
  const transactions = requests('TransactWriteItems');
  expect(transactions).toBeGreaterThanOrEqual(1);
  expect(requests('PutItem')).toBeGreaterThanOrEqual(version - 1);
  expect(requests('UpdateItem')).toBeGreaterThanOrEqual(version - 1);
  const wru = m.get('eventticket_dynamodb_capacity_units_total{kind="write"}') ?? 0;
  const rru = m.get('eventticket_dynamodb_capacity_units_total{kind="read"}') ?? 0;
  expect(wru).toBeGreaterThanOrEqual(4 * transactions + 2 * (version - 1));
  expect(rru).toBeGreaterThan(0);
  const dollars = m.get('eventticket_aws_cost_dollars_total') ?? 0;
  const sqsBilled = sum(m, 'eventticket_sqs_billed_requests_total{');
  expect(sqsBilled).toBeGreaterThan(0);
  expect(dollars).toBeCloseTo(
    wru * 0.625e-6 +
      rru * 0.125e-6 +
      sum(m, 'eventticket_sqs_billed_requests_total{queue_type="fifo"}') * 0.5e-6 +
      sum(m, 'eventticket_sqs_billed_requests_total{queue_type="standard"}') * 0.4e-6,
    9,
  );
  // The engine's own split by table and GSI (ReturnConsumedCapacity: INDEXES). Every engine
  // reports plain writes (the payment record is a Put and an Update; moto counts them its own way,
  // 1.5 units); DynamoDB Local and AWS also report transactions and the GSIs they update.
  const tables = service.core.names.tables;
  const reported = (table: string, index = '') =>
    m.get(`eventticket_dynamodb_reported_capacity_units_total{table="${table}",index="${index}",kind="write"}`) ?? 0;
  expect(reported(tables.payments)).toBeGreaterThan(0);
  expect(sum(m, 'eventticket_dynamodb_reported_capacity_units_total{')).toBeLessThanOrEqual(wru + rru);
  if (reported(tables.orders) > 0) expect(reported(tables.orders, 'StatusOrdersIndex')).toBeGreaterThan(0);

  // One completed order: per-order figures are the totals (give or take the scrape's own reads of
  // queue depths and open sagas, which run while the totals are read).
  const perOrder = (figure: string) => m.get(`eventticket_cost_per_completed_order{figure="${figure}"}`) ?? NaN;
  // The scrape's own SQS reads of queue depths (one GetQueueAttributes per queue, made while the
  // gauges are collected, after the counters above were written out, at most 0.5e-6 each) are a
  // visible share of one order's figure, now that an order costs ~$20 per million: allowed for.
  const queues = [...m.keys()].filter(
    (k) => k.startsWith('eventticket_queue_messages{') && k.includes('state="visible"'),
  );
  expect(queues.length).toBeGreaterThan(0);
  expect(Math.abs(perOrder('wru') - wru)).toBeLessThanOrEqual(0.1 * wru);
  expect(Math.abs(perOrder('dollars') - dollars)).toBeLessThanOrEqual(0.1 * dollars + queues.length * 0.5e-6);
  // The second price: DynamoDB units on provisioned capacity at 70% utilization, SQS as on-demand.
  const provisioned = m.get('eventticket_aws_cost_provisioned_dollars_total') ?? 0;
  expect(provisioned).toBeCloseTo(
    (wru * 0.00065 + rru * 0.00013) / 3600 / 0.7 +
      sum(m, 'eventticket_sqs_billed_requests_total{queue_type="fifo"}') * 0.5e-6 +
      sum(m, 'eventticket_sqs_billed_requests_total{queue_type="standard"}') * 0.4e-6,
    9,
  );
  expect(Math.abs(perOrder('dollars_provisioned') - provisioned)).toBeLessThanOrEqual(
    0.1 * provisioned + queues.length * 0.5e-6,
  );

  // Queues, DLQ, sagas, handler errors and the process's own metrics.
  expect(m.has('eventticket_queue_messages{queue="saga",state="visible"}')).toBe(true);
  expect(m.get('eventticket_dlq_messages')).toBe(0);
  expect(m.get('eventticket_sagas_stuck')).toBe(0);
  expect(sum(m, 'eventticket_handler_errors_total{')).toBe(0);
  // The commands were received from their queues (the replies are applied where they are made:
  // REPLY_DELIVERY=direct, so nothing goes through the saga queue).
  expect(m.get('eventticket_message_age_at_receive_seconds_count{queue="inventory"}')).toBeGreaterThanOrEqual(2);
  expect(m.get('eventticket_message_age_at_receive_seconds_count{queue="payment"}')).toBeGreaterThanOrEqual(1);
  expect(m.get('eventticket_message_age_at_receive_seconds_count{queue="notification"}')).toBeGreaterThanOrEqual(1);
  expect(m.get('process_cpu_seconds_total')).toBeGreaterThan(0);

  expect((await fetch(metricsUrl.replace('/metrics', '/orders'))).status).toBe(404);
});
