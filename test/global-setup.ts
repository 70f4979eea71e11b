/**
 * jest globalSetup (runs once, in jest's parent process, before any test file).
 *
 * - AWS: AWS_ENDPOINT_URL if set (must answer, except the local default which is started);
 *   otherwise LocalStack through testcontainers when Docker answers; otherwise an endpoint already
 *   answering on 127.0.0.1:4566; otherwise the moto emulator (scripts/emulator.py) started here.
 *   The endpoint is exported as process.env.AWS_ENDPOINT_URL: jest creates each test environment's
 *   `process.env` from the parent's after globalSetup (in-band and in worker processes alike).
 * - DynamoDB: AWS_ENDPOINT_URL_DYNAMODB if set; else AWS's DynamoDB Local on a free port when Java
 *   >= 17 answers (exported as AWS_ENDPOINT_URL_DYNAMODB); else the endpoint above. LOCAL_DYNAMODB=moto
 *   runs the suite on the fallback.
 * - Redis: must answer at REDIS_URL (default 127.0.0.1:6379); a local redis-server is started if not.
 *
 * What was started is kept on globalThis for test/global-teardown.ts (same process).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLocalAws, ensureLocalRedis, type LocalAws, type LocalRedis } from '../scripts/local-aws';

export interface StartedServices {
  aws?: LocalAws;
  redis?: LocalRedis;
}

export const HANDLE_KEY = '__eventticketStartedServices__';
/** Where globalSetup keeps the contract log's path for test/global-teardown.ts. */
export const CONTRACT_LOG_KEY = '__eventticketContractLog__';

export default async function globalSetup(): Promise<void> {
  const started: StartedServices = {};
  (globalThis as Record<string, unknown>)[HANDLE_KEY] = started;
  const log = (line: string) => process.stderr.write(`[global-setup] ${line}\n`);

  // The contract check of every answer (src/api/openapi-contract.ts): createApp logs each answer
  // here, test/global-teardown.ts fails the run on a violation. OPENAPI_CONTRACT_LOG=off: no check.
  if (process.env.OPENAPI_CONTRACT_LOG !== 'off') {
    const file =
      process.env.OPENAPI_CONTRACT_LOG || join(tmpdir(), `eventticket-contract-${process.pid}-${Date.now()}.jsonl`);
    writeFileSync(file, '');
    process.env.OPENAPI_CONTRACT_LOG = file;
    (globalThis as Record<string, unknown>)[CONTRACT_LOG_KEY] = file;
  } else delete process.env.OPENAPI_CONTRACT_LOG;

  started.aws = await ensureLocalAws({
    prefer: 'localstack',
    log: (line) => !line.startsWith('using') && log(line),
    dynamodb: { port: 'free' },
  });
  process.env.AWS_ENDPOINT_URL = started.aws.endpoint;
  if (started.aws.dynamodbEndpoint !== started.aws.endpoint)
    process.env.AWS_ENDPOINT_URL_DYNAMODB = started.aws.dynamodbEndpoint;
  process.env.AWS_REGION = process.env.AWS_REGION || 'us-east-1';

  try {
    started.redis = await ensureLocalRedis();
    if (started.redis.started) log(`started redis-server for ${started.redis.url}`);
  } catch (error) {
    // Jest does not run globalTeardown when globalSetup throws: stop what we started here.
    await started.aws.stop();
    throw error;
  }
}
