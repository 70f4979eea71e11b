/**
 * The original design's "AWS CLI Commands with LocalStack", run verbatim against the one gateway
 * of a live `npm run dev` (its emulator on a port of its own instead of 4566: only the alias's port
 * differs). Every command must exit 0 and answer what the design meant: the tables and queues by
 * the design's names (dev uses no RESOURCE_PREFIX), the orders of a customer through CustomerIndex,
 * an order by key, and the queue operations on ticket-order-queue.
 *
 * The same dev also shows the developer's shell: its env file, and `npm run check`, `token`,
 * `replay` and `migrate` finding the dev from a shell that names nothing.
 */
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { eventually } from '../support/service';
import { startLiveDev, type LiveDev } from '../support/dev';

const ROOT = path.resolve(__dirname, '..', '..');

/** The design's commands, as its README gives them (alias line aside). */
const DESIGN_DYNAMODB = [
  'awslocal dynamodb list-tables',
  'awslocal dynamodb scan --table-name Events --max-items 10',
  'awslocal dynamodb scan --table-name TicketOrders',
  'awslocal dynamodb scan --table-name TicketInventory',
  `awslocal dynamodb query \\
  --table-name TicketOrders \\
  --index-name CustomerIndex \\
  --key-condition-expression "customerId = :cid" \\
  --expression-attribute-values '{":cid": {"S": "customer-001"}}'`,
  `awslocal dynamodb get-item \\
  --table-name TicketOrders \\
  --key '{"orderId": {"S": "order-001"}}'`,
];
const QUEUE_URL_LINE = `QUEUE_URL=$(awslocal sqs get-queue-url --queue-name ticket-order-queue --output text --query 'QueueUrl')`;
const DESIGN_SQS = [
  'awslocal sqs list-queues',
  'awslocal sqs get-queue-url --queue-name ticket-order-queue',
  'awslocal sqs receive-message --queue-url $QUEUE_URL --max-number-of-messages 10',
  `awslocal sqs send-message \\
  --queue-url $QUEUE_URL \\
  --message-body '{"eventId":"concert-001","ticketCount":2}'`,
  'awslocal sqs get-queue-attributes --queue-url $QUEUE_URL --attribute-names All',
  'awslocal sqs purge-queue --queue-url $QUEUE_URL',
];

let dev: LiveDev;
let orderId: string;

/** Runs `script` in bash with the design's alias pointed at the gateway; test/test credentials only. */
function awslocal(script: string): { status: number | null; stdout: string; stderr: string } {
  const port = new URL(dev.gateway).port;
  const result = spawnSync(
    'bash',
    [
      '-c',
      `shopt -s expand_aliases\nalias awslocal="aws --endpoint-url=http://localhost:${port} --region=us-east-1"\n${script}`,
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: dev.shellEnv({ AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PAGER: '' }),
      timeout: 60000,
    },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function json<T>(script: string): T {
  const r = awslocal(script);
  expect({ script, status: r.status, stderr: r.stderr }).toEqual({ script, status: 0, stderr: '' });
  return (r.stdout.trim() ? JSON.parse(r.stdout) : {}) as T;
}

async function api(method: string, url: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${dev.apiUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': url + method },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

beforeAll(async () => {
  dev = await startLiveDev();
  // One completed order, so the design's scans and the customer query have something to find.
  const inventory = await api('PUT', '/events/concert-001/inventory', dev.vars.TOKEN_ORGANIZER, {
    eventName: 'Concert',
    ticketTypes: [{ ticketType: 'VIP', totalQuantity: 10, price: 100, currency: 'EUR' }],
  });
  expect(inventory.status).toBeLessThan(300);
  const placed = await api('POST', '/orders', dev.vars.TOKEN_CUSTOMER, {
    eventId: 'concert-001',
    items: [{ ticketType: 'VIP', quantity: 2 }],
    paymentToken: 'tok_success',
  });
  expect(placed.status).toBe(202);
  orderId = ((await placed.json()) as { orderId: string }).orderId;
  await eventually(
    async () =>
      ((await (await api('GET', `/orders/${orderId}`, dev.vars.TOKEN_CUSTOMER)).json()) as { status: string }).status,
    (status) => status === 'COMPLETED',
    60000,
  );
}, 180000);

afterAll(async () => {
  await dev?.stop();
}, 90000);

describe("the design's DynamoDB commands on the gateway", () => {
  it('list-tables names the design tables', () => {
    const { TableNames } = json<{ TableNames: string[] }>(DESIGN_DYNAMODB[0]);
    expect(TableNames).toEqual(
      expect.arrayContaining(['Events', 'TicketOrders', 'TicketInventory', 'TicketReservations']),
    );
  });

  it('the scans find the order, its history and the stock', () => {
    const events = json<{ Items: Array<Record<string, { S?: string }>> }>(DESIGN_DYNAMODB[1]);
    expect(events.Items.length).toBeGreaterThan(0);
    expect(events.Items.length).toBeLessThanOrEqual(10);
    expect(events.Items.some((i) => i.aggregateId?.S === orderId)).toBe(true);
    const orders = json<{ Items: Array<Record<string, { S?: string }>> }>(DESIGN_DYNAMODB[2]);
    expect(orders.Items.map((i) => i.orderId?.S)).toContain(orderId);
    const stock = json<{ Items: Array<Record<string, { S?: string }>> }>(DESIGN_DYNAMODB[3]);
    expect(stock.Items.map((i) => i.eventId?.S)).toContain('concert-001');
  });

  it('the CustomerIndex query answers customerId = :cid (none for the design sample, ours for customer-1)', () => {
    expect(json<{ Count: number }>(DESIGN_DYNAMODB[4]).Count).toBe(0);
    const ours = json<{ Items: Array<Record<string, { S?: string }>> }>(
      DESIGN_DYNAMODB[4].replace('customer-001', 'customer-1'),
    );
    expect(ours.Items.map((i) => i.orderId?.S)).toEqual([orderId]);
  });

  it('get-item answers by key (nothing for the design sample, the order for ours)', () => {
    expect(json<{ Item?: unknown }>(DESIGN_DYNAMODB[5]).Item).toBeUndefined();
    const ours = json<{ Item: Record<string, { S?: string }> }>(DESIGN_DYNAMODB[5].replace('order-001', orderId));
    expect(ours.Item.orderId.S).toBe(orderId);
    expect(ours.Item.status.S).toBe('COMPLETED');
  });
});

describe("the design's SQS commands on the gateway", () => {
  it('list-queues and get-queue-url name the design queues', () => {
    const { QueueUrls } = json<{ QueueUrls: string[] }>(DESIGN_SQS[0]);
    const names = QueueUrls.map((u) => u.split('/').pop());
    expect(names).toEqual(
      expect.arrayContaining([
        'ticket-order-queue',
        'ticket-payment-queue',
        'ticket-notification-queue',
        'ticket-dlq',
        'ticket-order-fifo.fifo',
      ]),
    );
    expect(json<{ QueueUrl: string }>(DESIGN_SQS[1]).QueueUrl).toMatch(/\/ticket-order-queue$/);
  });

  it('receive, send, attributes and purge work on ticket-order-queue', () => {
    json(`${QUEUE_URL_LINE}\n${DESIGN_SQS[2]}`);
    const sent = json<{ MessageId: string; MD5OfMessageBody: string }>(`${QUEUE_URL_LINE}\n${DESIGN_SQS[3]}`);
    expect(sent.MessageId).toMatch(/\S/);
    const { Attributes } = json<{ Attributes: Record<string, string> }>(`${QUEUE_URL_LINE}\n${DESIGN_SQS[4]}`);
    expect(Attributes.QueueArn).toMatch(/:ticket-order-queue$/);
    expect(Attributes).toHaveProperty('ApproximateNumberOfMessages');
    json(`${QUEUE_URL_LINE}\n${DESIGN_SQS[5]}`);
  });
});

describe("the developer's shell", () => {
  it('dev writes one env file with the gateway, DynamoDB Local on loopback, no prefix and a token per role', () => {
    expect(dev.output()).toContain(`source ${dev.envFile}`);
    expect(dev.vars).toMatchObject({
      AWS_ENDPOINT_URL: dev.gateway,
      AWS_ENDPOINT_URL_SQS: dev.gateway,
      AWS_REGION: 'us-east-1',
      RESOURCE_PREFIX: '',
      API_URL: expect.stringMatching(/^http:\/\/localhost:\d+$/),
      REDIS_URL: expect.stringMatching(/^redis:\/\/127\.0\.0\.1:\d+$/),
    });
    expect(dev.vars.AWS_ENDPOINT_URL_DYNAMODB).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const role of ['CUSTOMER', 'ORGANIZER', 'OPERATOR', 'OPERATOR_REPAIR'])
      expect(dev.vars[`TOKEN_${role}`]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // It can be sourced, and says the same to a shell.
    const sourced = spawnSync(
      'bash',
      ['-c', `source '${dev.envFile}' && printf %s "$AWS_ENDPOINT_URL|$TOKEN_CUSTOMER"`],
      {
        encoding: 'utf8',
        env: dev.shellEnv(),
      },
    );
    expect(sourced.stdout).toBe(`${dev.gateway}|${dev.vars.TOKEN_CUSTOMER}`);
  });

  /** `npm run --silent ARGS` in a fresh shell with only DEV_DIR (async: the API's keep-alive sockets stay served). */
  const npm = (args: string[], extra: Record<string, string> = {}) =>
    new Promise<{ status: number | null; stdout: string; stderr: string; all: string }>((resolve) => {
      execFile(
        'npm',
        ['run', '--silent', ...args],
        { cwd: ROOT, encoding: 'utf8', env: dev.shellEnv({ DEV_DIR: dev.devDir, ...extra }), timeout: 90000 },
        (error, stdout, stderr) => {
          const status = error ? (typeof error.code === 'number' ? error.code : null) : 0;
          resolve({ status, stdout, stderr, all: `exit ${status}\n${stdout}\n${stderr}` });
        },
      );
    });

  it('npm run check finds the dev from a shell that names nothing, and the environment wins over the file', async () => {
    const found = await npm(['check', '--', '--json']);
    expect(found.all).toMatch(/^exit 0\n/);
    expect(() => JSON.parse(found.stdout)).not.toThrow(); // the report, as JSON on stdout
    expect(found.stderr).toMatch(/outcomes:\s+completed 1\b/);
    // A target named in the environment: the file is not read (this endpoint answers nothing).
    const elsewhere = await npm(['check'], { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'us-east-1' });
    expect(elsewhere.all).toMatch(/^exit 2\n/);
  });

  it('npm run token signs with the running dev key; the API accepts it', async () => {
    const minted = await npm(['token', '--', '--role', 'customer', '--sub', 'ann']);
    expect(minted.all).toMatch(/^exit 0\n/);
    const token = minted.stdout.trim();
    const res = await api('GET', '/orders', token);
    expect(res.status).toBe(200);
  });

  it('npm run replay and npm run migrate read the same tables', async () => {
    const replay = await npm(['replay', '--', '--candidate', '3', '--json']);
    expect(replay.all).toMatch(/^exit 0\n/);
    expect(replay.stdout).toContain(orderId);
    const migrate = await npm([
      'migrate',
      '--',
      '--to',
      '3',
      '--order',
      orderId,
      '--by',
      'ann',
      '--reason',
      'dry run from the test',
      '--dry-run',
    ]);
    expect(migrate.all).toContain(orderId);
    expect(migrate.stderr).not.toMatch(/Requested resource not found|Could not load credentials/);
  });
});
