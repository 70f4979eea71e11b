/**
 * The import check (`npm run deps`, part of `npm test`): no import cycle, and no arrow against the
 * layers of docs/architecture.md ("Layers"). dependency-cruiser 17 (Node ^20.12 || ^22 || >=24).
 *
 * Type-only imports count for cycles (a loop through types is still a loop), and count for the
 * layers unless a rule says otherwise: a lower layer may name the type of a port it defines and a
 * higher one implements (observability's metrics implement the runtime's SagaObserver).
 *
 * No known exceptions are left (issue 24 removed the last ones): any violation fails the build.
 */

/**
 * Top layers: nothing below them imports them; only the composition root (service.ts, main.ts, and
 * routes.ts, which joins the API's and the console's route declarations into the one table) does.
 */
const TOP = '^src/(api|console|admission)/';
const ROOT = '^src/(service|main|routes)[.]ts$';
const below = (...folders) => [`^src/(${folders.join('|')})/`, ROOT];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'No import loops, type-only ones included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'machines-pure',
      severity: 'error',
      comment: 'machines/ is pure: it imports nothing of the service, the tools or the scripts.',
      from: { path: '^machines/' },
      to: { path: '^(src|tools|scripts|test)/' },
    },
    {
      name: 'offline-stays-out',
      severity: 'error',
      comment: 'The service never imports the offline tools, the scripts or the tests.',
      from: { path: '^src/' },
      to: { path: '^(tools|scripts|test)/' },
    },
    {
      name: 'observability-leaf',
      severity: 'error',
      comment:
        'observability/ is a leaf: it imports nothing of the service at run time (types of the ports it implements only).',
      from: { path: '^src/observability/' },
      to: { path: '^src/', pathNot: '^src/observability/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'aws-bottom',
      severity: 'error',
      comment:
        'aws/ (clients, limits, the DynamoDB transaction and error helpers) is the bottom: it imports only config types.',
      from: { path: '^src/aws/' },
      to: { path: '^src/', pathNot: ['^src/aws/', '^src/config/'] },
    },
    {
      name: 'aws-config-types-only',
      severity: 'error',
      from: { path: '^src/aws/' },
      to: { path: '^src/config/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'money-pure',
      severity: 'error',
      from: { path: '^src/money/' },
      to: { path: '^src/', pathNot: '^src/money/' },
    },
    {
      name: 'config-low',
      severity: 'error',
      comment: 'config/ reads and checks settings: it may use AWS limits and money, never a layer above.',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: '^src/(config|aws|money)/' },
    },
    {
      name: 'store-below-runtime',
      severity: 'error',
      comment: 'The store owns the orders and events tables; it knows nothing of who calls it.',
      from: { path: '^src/store/' },
      to: {
        path: below(
          'runtime',
          'messaging',
          'participants',
          'cache',
          'ops',
          'api',
          'console',
          'admission',
          'fault-injection',
        ),
      },
    },
    {
      name: 'messaging-below-runtime',
      severity: 'error',
      comment: 'messaging/ (SQS consumer, sender, envelopes) knows nothing of what the messages drive.',
      from: { path: '^src/messaging/' },
      to: { path: below('runtime', 'store', 'participants', 'cache', 'ops', 'api', 'console', 'admission') },
    },
    {
      name: 'participants-own-their-tables',
      severity: 'error',
      comment: 'A participant: command in, effect on its own table, reply out. It reaches the cache through its hooks.',
      from: { path: '^src/participants/' },
      to: { path: below('runtime', 'store', 'cache', 'ops', 'api', 'console', 'admission') },
    },
    {
      name: 'runtime-below-http',
      severity: 'error',
      comment: 'runtime/ is driven by HTTP and SQS; it never imports them back.',
      from: { path: '^src/runtime/' },
      to: { path: below('cache', 'ops', 'api', 'console', 'admission') },
    },
    {
      name: 'runtime-reads-participant-records-only',
      severity: 'error',
      comment: 'The sweeper reads expired holds through the inventory records; nothing else of the participants.',
      from: { path: '^src/runtime/' },
      to: { path: '^src/participants/', pathNot: '^src/participants/records[.]ts$' },
    },
    {
      name: 'cache-below',
      severity: 'error',
      comment: 'cache/ is Redis plumbing: the service wires it into the participants and the API.',
      from: { path: '^src/cache/' },
      to: { path: below('runtime', 'store', 'messaging', 'participants', 'ops', 'api', 'console', 'admission') },
    },
    {
      name: 'infra-below',
      severity: 'error',
      from: { path: '^src/infra/' },
      to: { path: below('runtime', 'messaging', 'participants', 'cache', 'ops', 'api', 'console', 'admission') },
    },
    {
      name: 'ops-below-http',
      severity: 'error',
      comment: 'ops/ holds the live operator actions; HTTP and the console call them.',
      from: { path: '^src/ops/' },
      to: { path: below('api', 'console', 'admission') },
    },
    {
      name: 'orders-below-http',
      severity: 'error',
      comment:
        'orders/ holds the use cases (place an order) shared by HTTP and the admitter: it uses runtime, store, cache and its own port of the waiting room, never a caller.',
      from: { path: '^src/orders/' },
      to: { path: below('api', 'console', 'admission', 'ops', 'messaging', 'participants') },
    },
    {
      name: 'orders-only-from-top',
      severity: 'error',
      comment: 'The use cases are called by api/, console/, admission/ and the composition root only.',
      from: { path: '^src/', pathNot: [TOP, ROOT, '^src/orders/'] },
      to: { path: '^src/orders/' },
    },
    {
      name: 'top-only-from-root',
      severity: 'error',
      comment: 'api/, console/ and admission/ are imported by the composition root only (and by themselves).',
      from: { path: '^src/', pathNot: [TOP, ROOT] },
      to: { path: TOP },
    },
    {
      name: 'dynamodb-only-in-table-owners',
      severity: 'error',
      comment:
        'The store is the only door to the orders and events tables; participants own theirs; aws/ holds the shared helpers, infra/ the schema. Others may hold a client type, not build a command.',
      from: {
        path: '^src/',
        pathNot: '^src/(store|aws|participants|infra)/',
      },
      to: { path: '@aws-sdk/(lib-dynamodb|client-dynamodb)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'console-not-api',
      severity: 'error',
      comment:
        'The console is its own room: it does not import the API or the composition root; what both need is in src/http/.',
      from: { path: '^src/console/' },
      to: { path: ['^src/api/', ROOT] },
    },
    {
      name: 'api-not-console',
      severity: 'error',
      comment: 'The API does not import the console either: src/routes.ts joins their route declarations.',
      from: { path: '^src/api/' },
      to: { path: ['^src/console/', ROOT] },
    },
    {
      name: 'http-shared-below-rooms',
      severity: 'error',
      comment:
        'src/http/ (problem+json, validation, authentication and roles, the strict router, the route declaration) is shared by the API and the console: it imports neither, nor anything but config and observability.',
      from: { path: '^src/http/' },
      to: { path: '^src/', pathNot: '^src/(http|config|observability)/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|coverage)/' },
  },
};
