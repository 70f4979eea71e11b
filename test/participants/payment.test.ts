/**
 * The payment participant against the emulator: one payment record per order, so an order is
 * charged at most once and refunded at most once, whatever the saga re-sends and in what order.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { PermanentCommandError, RetryLaterError } from '../../src/participants/errors';
import * as gateway from '../../src/participants/gateway';
import { handlePaymentCommand } from '../../src/participants/payment';
import { readPayment } from '../../src/participants/records';
import { createTestAws, type TestAws } from '../support/aws';
import { charge, participantDeps, refund, uid, voidPayment } from './helpers';

let aws: TestAws;
beforeAll(async () => {
  aws = await createTestAws('tpay');
});
afterAll(async () => {
  await aws?.cleanup();
});

/** Every call the participant makes to the (simulated) gateway, by chargeId. */
const gatewayCalls = jest.spyOn(gateway, 'simulateGatewayCharge');
const callsFor = (orderId: string): number =>
  gatewayCalls.mock.calls.filter(([c]) => c.chargeId === `ch_${orderId}`).length;

describe('ChargePayment', () => {
  it('captures with tok_success and records the capture', async () => {
    const orderId = uid('order');
    const reply = await handlePaymentCommand(charge(orderId, 'tok_success', 5997, 'EUR'), participantDeps(aws));
    expect(reply).toEqual({ type: 'PAYMENT_CAPTURED', paymentId: `ch_${orderId}`, amountMinor: 5997, currency: 'EUR' });
    expect(await readPayment(participantDeps(aws), orderId)).toMatchObject({
      status: 'CAPTURED',
      chargeId: `ch_${orderId}`,
      amountMinor: 5997,
      attempts: 1,
      capturedAt: expect.any(String),
    });
  });

  it('charges once when the same command comes twice', async () => {
    const orderId = uid('order');
    const first = await handlePaymentCommand(charge(orderId, 'tok_success'), participantDeps(aws));
    const second = await handlePaymentCommand(charge(orderId, 'tok_success'), participantDeps(aws));
    expect(second).toEqual(first);
    expect(callsFor(orderId)).toBe(1);
    expect(await readPayment(participantDeps(aws), orderId)).toMatchObject({ status: 'CAPTURED', attempts: 1 });
  });

  it('gives concurrent duplicates one outcome and one gateway call: the others wait for it', async () => {
    const orderId = uid('order');
    const captured = { type: 'PAYMENT_CAPTURED', paymentId: `ch_${orderId}`, amountMinor: 5000, currency: 'EUR' };
    const deps = participantDeps(aws, { paymentSlowMs: 300 });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => handlePaymentCommand(charge(orderId, 'tok_slow'), deps)),
    );
    for (const result of results) {
      if (result.status === 'fulfilled') expect(result.value).toEqual(captured);
      else expect(result.reason).toBeInstanceOf(RetryLaterError);
    }
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    expect(callsFor(orderId)).toBe(1);
    // Asked again later, a waiting duplicate answers with the recorded capture.
    expect(await handlePaymentCommand(charge(orderId, 'tok_slow'), deps)).toEqual(captured);
    expect(await readPayment(deps, orderId)).toMatchObject({ status: 'CAPTURED', attempts: 1 });
  });

  it.each([
    ['tok_declined', 'card declined'],
    ['tok_stolen', 'unknown payment token'],
  ])('declines %s with the reason "%s", and says so again on redelivery', async (token, reason) => {
    const orderId = uid('order');
    expect(await handlePaymentCommand(charge(orderId, token), participantDeps(aws))).toEqual({
      type: 'PAYMENT_DECLINED',
      reason,
    });
    expect(await handlePaymentCommand(charge(orderId, token), participantDeps(aws))).toEqual({
      type: 'PAYMENT_DECLINED',
      reason,
    });
    expect(await readPayment(participantDeps(aws), orderId)).toMatchObject({ status: 'DECLINED', reason, attempts: 1 });
  });

  it('declines an invalid amount without calling the gateway', async () => {
    const orderId = uid('order');
    const reply = await handlePaymentCommand(charge(orderId, 'tok_success', 0), participantDeps(aws));
    expect(reply).toEqual({ type: 'PAYMENT_DECLINED', reason: 'invalid amount 0 (minor units)' });
    expect(await readPayment(participantDeps(aws), orderId)).toMatchObject({ status: 'DECLINED', attempts: 0 });
    expect(callsFor(orderId)).toBe(0);
  });

  it('captures tok_slow after paymentSlowMs, IN_FLIGHT meanwhile', async () => {
    const orderId = uid('order');
    const deps = participantDeps(aws, { paymentSlowMs: 300 });
    const started = Date.now();
    const pending = handlePaymentCommand(charge(orderId, 'tok_slow'), deps);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await readPayment(deps, orderId)).toMatchObject({ status: 'IN_FLIGHT' });

    expect(await pending).toMatchObject({ type: 'PAYMENT_CAPTURED', paymentId: `ch_${orderId}` });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(deps.recorder.sleeps).toContain(300);
  });

  it('resumes a charge whose worker died after recording the intent (its lease ran out)', async () => {
    const orderId = uid('order');
    const at = new Date(Date.now() - 60_000).toISOString();
    await aws.clients.doc.send(
      new PutCommand({
        TableName: aws.names.tables.payments,
        Item: {
          orderId,
          status: 'IN_FLIGHT',
          amountMinor: 5000,
          currency: 'EUR',
          paymentToken: 'tok_success',
          chargeId: `ch_${orderId}`,
          attempts: 1,
          createdAt: at,
          updatedAt: at,
        },
      }),
    );

    const reply = await handlePaymentCommand(charge(orderId, 'tok_success'), participantDeps(aws));

    expect(reply).toEqual({ type: 'PAYMENT_CAPTURED', paymentId: `ch_${orderId}`, amountMinor: 5000, currency: 'EUR' });
    expect(await readPayment(participantDeps(aws), orderId)).toMatchObject({ status: 'CAPTURED', attempts: 2 });
  });
});

describe('VoidPayment', () => {
  it('before the charge: the charge never happens', async () => {
    const orderId = uid('order');
    expect(await handlePaymentCommand(voidPayment(orderId), participantDeps(aws))).toEqual({
      type: 'PAYMENT_DECLINED',
      reason: 'voided',
    });
    expect(await handlePaymentCommand(voidPayment(orderId), participantDeps(aws))).toEqual({
      type: 'PAYMENT_DECLINED',
      reason: 'voided',
    });

    const late = await handlePaymentCommand(charge(orderId, 'tok_success'), participantDeps(aws));

    expect(late).toEqual({ type: 'PAYMENT_DECLINED', reason: 'voided' });
    expect(callsFor(orderId)).toBe(0);
    const record = await readPayment(participantDeps(aws), orderId);
    expect(record).toMatchObject({ status: 'VOIDED' });
    expect(record?.capturedAt).toBeUndefined();
  });

  it('after a capture: reports the capture so the saga refunds it', async () => {
    const orderId = uid('order');
    await handlePaymentCommand(charge(orderId, 'tok_success', 7500, 'USD'), participantDeps(aws));
    expect(await handlePaymentCommand(voidPayment(orderId), participantDeps(aws))).toEqual({
      type: 'PAYMENT_CAPTURED',
      paymentId: `ch_${orderId}`,
      amountMinor: 7500,
      currency: 'USD',
    });
    expect(await readPayment(participantDeps(aws), orderId)).toMatchObject({ status: 'CAPTURED' });
  });

  it('after a decline: reports the decline', async () => {
    const orderId = uid('order');
    await handlePaymentCommand(charge(orderId, 'tok_declined'), participantDeps(aws));
    expect(await handlePaymentCommand(voidPayment(orderId), participantDeps(aws))).toEqual({
      type: 'PAYMENT_DECLINED',
      reason: 'card declined',
    });
  });

  it('while the charge is in flight: asks to be retried later, then reports the outcome', async () => {
    const orderId = uid('order');
    const pending = handlePaymentCommand(charge(orderId, 'tok_slow'), participantDeps(aws, { paymentSlowMs: 400 }));
    await new Promise((resolve) => setTimeout(resolve, 150));

    await expect(handlePaymentCommand(voidPayment(orderId), participantDeps(aws))).rejects.toThrow(RetryLaterError);

    const charged = await pending;
    expect(charged).toMatchObject({ type: 'PAYMENT_CAPTURED' });
    expect(await handlePaymentCommand(voidPayment(orderId), participantDeps(aws))).toEqual(charged);
  });

  it('finding a charge orphaned by a dead worker: finishes it and reports the capture', async () => {
    const orderId = uid('order');
    const longAgo = new Date(Date.now() - 60_000).toISOString();
    await aws.clients.doc.send(
      new PutCommand({
        TableName: aws.names.tables.payments,
        Item: {
          orderId,
          status: 'IN_FLIGHT',
          amountMinor: 3000,
          currency: 'EUR',
          paymentToken: 'tok_success',
          chargeId: `ch_${orderId}`,
          attempts: 1,
          createdAt: longAgo,
          updatedAt: longAgo,
        },
      }),
    );
    expect(await handlePaymentCommand(voidPayment(orderId), participantDeps(aws))).toEqual({
      type: 'PAYMENT_CAPTURED',
      paymentId: `ch_${orderId}`,
      amountMinor: 3000,
      currency: 'EUR',
    });
    expect(await readPayment(participantDeps(aws), orderId)).toMatchObject({ status: 'CAPTURED', attempts: 2 });
  });
});

describe('RefundPayment', () => {
  it('refunds a capture once, however often it is delivered', async () => {
    const orderId = uid('order');
    await handlePaymentCommand(charge(orderId, 'tok_success', 4000), participantDeps(aws));

    const first = await handlePaymentCommand(refund(orderId, 4000), participantDeps(aws));
    const second = await handlePaymentCommand(refund(orderId, 4000), participantDeps(aws));

    expect(first).toEqual({ type: 'REFUND_ISSUED', refundId: `rf_${orderId}`, amountMinor: 4000 });
    expect(second).toEqual(first);
    expect(callsFor(orderId)).toBe(1);
    expect(await readPayment(participantDeps(aws), orderId)).toMatchObject({
      status: 'REFUNDED',
      refundId: `rf_${orderId}`,
      refundedAmountMinor: 4000,
    });
    // A late duplicate of the charge tells the truth: it was captured (and has been refunded).
    expect(await handlePaymentCommand(charge(orderId, 'tok_success', 4000), participantDeps(aws))).toMatchObject({
      type: 'PAYMENT_CAPTURED',
    });
  });

  it('refuses to refund what was never captured', async () => {
    const declined = uid('order');
    await handlePaymentCommand(charge(declined, 'tok_declined'), participantDeps(aws));
    await expect(handlePaymentCommand(refund(declined), participantDeps(aws))).rejects.toThrow(/DECLINED/);
    await expect(handlePaymentCommand(refund(uid('order')), participantDeps(aws))).rejects.toThrow(
      PermanentCommandError,
    );
  });

  it('refuses a refund that does not match the capture', async () => {
    const orderId = uid('order');
    await handlePaymentCommand(charge(orderId, 'tok_success', 3000), participantDeps(aws));
    await expect(handlePaymentCommand(refund(orderId, 3100), participantDeps(aws))).rejects.toThrow(/does not match/);
    await expect(handlePaymentCommand(refund(orderId, 3000, 'EUR', 'ch_other'), participantDeps(aws))).rejects.toThrow(
      /does not match/,
    );
    expect(await readPayment(participantDeps(aws), orderId)).toMatchObject({ status: 'CAPTURED' });
  });
});
