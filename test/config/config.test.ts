/**
 * Configuration is checked at start-up: a bad variable stops the process with its name, before
 * anything runs on a wrong value. Pure (no AWS).
 */
import { ConfigError, loadConfig } from '../../src/config/config';

describe('loadConfig', () => {
  it('fills in the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      awsEndpoint: undefined,
      port: 8080,
      holdSeconds: 600,
      receiveWaitSeconds: 10,
      messageLeaseSeconds: 10,
      maxReceives: 5,
      mode: 'all',
      faultDuplicateRate: 0,
    });
  });

  it('reads what the environment sets', () => {
    const config = loadConfig({
      MESSAGE_LEASE_SECONDS: '900',
      HOLD_SECONDS: '5',
      SERVICE_MODE: 'worker',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
    });
    expect(config).toMatchObject({
      messageLeaseSeconds: 900,
      holdSeconds: 5,
      mode: 'worker',
      awsEndpoint: 'http://127.0.0.1:4566',
    });
  });

  it('routes each service to its own endpoint, AWS_ENDPOINT_URL being the common default', () => {
    expect(loadConfig({})).toMatchObject({
      dynamodbEndpoint: undefined,
      sqsEndpoint: undefined,
      metricsPort: undefined,
    });
    expect(loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toMatchObject({
      dynamodbEndpoint: 'http://127.0.0.1:4566',
      sqsEndpoint: 'http://127.0.0.1:4566',
    });
    expect(
      loadConfig({
        AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
        AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8000',
        METRICS_PORT: '9464',
      }),
    ).toMatchObject({
      dynamodbEndpoint: 'http://127.0.0.1:8000',
      sqsEndpoint: 'http://127.0.0.1:4566',
      metricsPort: 9464,
    });
    expect(loadConfig({ AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:4567' })).toMatchObject({
      awsEndpoint: undefined,
      dynamodbEndpoint: undefined,
      sqsEndpoint: 'http://127.0.0.1:4567',
    });
  });

  it.each([
    ['AWS_ENDPOINT_URL_DYNAMODB', '127.0.0.1:8000'],
    ['AWS_ENDPOINT_URL_SQS', 'localhost'],
    ['METRICS_PORT', 'nine'],
    ['MESSAGE_LEASE_SECONDS', '2'], // shorter than a heartbeat can keep
    ['MESSAGE_LEASE_SECONDS', '901'], // longer than a message should sit with a dead worker
    ['MESSAGE_LEASE_SECONDS', 'ten'],
    ['RECEIVE_WAIT_SECONDS', '21'], // SQS long polls last at most 20 s
    ['SERVICE_MODE', 'both'],
    ['AWS_ENDPOINT_URL', 'localhost:4566'],
    ['FAULT_DUPLICATE_RATE', '1.5'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('machine versions in the configuration', () => {
  it('new orders start on the registry’s START_VERSION unless ORDER_SAGA_START_VERSION names another version of this build', () => {
    expect(loadConfig({}).sagaStartVersion).toBe('2');
    expect(loadConfig({ ORDER_SAGA_START_VERSION: '3' }).sagaStartVersion).toBe('3');
    expect(() => loadConfig({ ORDER_SAGA_START_VERSION: '9' })).toThrow(
      'ORDER_SAGA_START_VERSION: 9 is not a machine version of this build (2, 3)',
    );
  });

  it('the first wait for an unknown machine version is 1–900 s, 30 by default', () => {
    expect(loadConfig({}).machineVersionRetrySeconds).toBe(30);
    expect(() => loadConfig({ MACHINE_VERSION_RETRY_SECONDS: '0' })).toThrow(/MACHINE_VERSION_RETRY_SECONDS/);
    expect(() => loadConfig({ MACHINE_VERSION_RETRY_SECONDS: '901' })).toThrow(/MACHINE_VERSION_RETRY_SECONDS/);
  });
});
