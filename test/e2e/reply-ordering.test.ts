/**
 * Replies applied where they are made (REPLY_DELIVERY=direct) keep the saga's order of events and
 * its redelivery rules, as the FIFO queue did (both modes run every case), on real DynamoDB + SQS:
 * - a due timer goes through the saga's queue: it cannot overtake a reply waiting there (here a
 *   payment captured in time, held back by a machine-version wait during a rollout);
 * - a redelivered timer event that was the saga's last step re-sends the outbox without the timer
 *   it answered: a fired timer re-sent would fire at once and come back here, a loop (machine v3's
 *   hold reminder, which leaves the saga in awaitingPayment with the timer still in its outbox).
 * Found by a review of issue 14's direct replies; each failed with 'direct' before the fix.
 */
import type { SagaCommand } from '../../machines/order-saga';
import { holdReminderEventId } from '../../src/runtime/routing';
import {
  eventually,
  newEvent,
  orderAwaitingSlowPayment,
  placeOrder,
  setMachineVersion,
  startTestService,
  type TestService,
} from '../support/service';

const FINAL = ['COMPLETED', 'CANCELLED', 'FAILED'];

describe.each(['direct', 'queue'] as const)('REPLY_DELIVERY=%s', (replyDelivery) => {
  describe('a timer and a reply waiting on the saga queue', () => {
    let service: TestService;
    beforeAll(async () => {
      service = await startTestService(
        {
          REPLY_DELIVERY: replyDelivery,
          HOLD_SECONDS: '12',
          PAYMENT_SLOW_MS: '2000',
          MACHINE_VERSION_RETRY_SECONDS: '20',
        },
        { label: `ovt${replyDelivery[0]}` },
      );
    });
    afterAll(async () => {
      await service?.stop();
    });

    it('a payment captured within the hold completes the order, though its reply waited past the hold', async () => {
      const { core } = service;
      const eventId = await newEvent(core, 10, 25);
      const orderId = await orderAwaitingSlowPayment(core, eventId);
      // A newer build's saga for a moment (a rollout), while the charge is taken (2 s of a 12 s hold).
      await setMachineVersion(core, orderId, '99');
      await eventually(
        () => core.store.load(orderId),
        (s) => s?.versionWait?.eventType === 'PAYMENT_CAPTURED',
      );
      await setMachineVersion(core, orderId, '2');
      // The reply waits for its retry (20 s) on the queue; the hold's timer fires meanwhile (12 s).
      const done = await eventually(
        async () => (await core.store.load(orderId))!,
        (s) => FINAL.includes(s.status),
        90000,
      );
      const steps = (await core.store.history(orderId)).map((h) => h.eventType);
      expect({ status: done.status, outcome: done.saga.context.outcome }).toEqual({
        status: 'COMPLETED',
        outcome: 'completed',
      });
      expect(steps).not.toContain('HOLD_EXPIRED');
    });
  });

  describe('a redelivered timer event', () => {
    let service: TestService;
    beforeAll(async () => {
      // Machine v3: the reminder is due 5 s into a 10-s hold; the charge takes 15 s.
      service = await startTestService(
        { REPLY_DELIVERY: replyDelivery, ORDER_SAGA_START_VERSION: '3', HOLD_SECONDS: '10', PAYMENT_SLOW_MS: '15000' },
        { label: `loop${replyDelivery[0]}` },
      );
    });
    afterAll(async () => {
      await service?.stop();
    });

    it('re-sends the outbox once, without the timer it answered', async () => {
      const { core } = service;
      const eventId = await newEvent(core, 10, 25);
      const orderId = await placeOrder(core, { eventId, paymentToken: 'tok_slow' });
      const reminded = await eventually(
        () => core.store.load(orderId),
        (s) => (s?.saga.context as { holdReminderSent?: boolean } | undefined)?.holdReminderSent === true,
      );
      expect(reminded?.saga.outbox.map((c) => c.kind)).toContain('ScheduleHoldReminder');
      const sent: SagaCommand[] = [];
      const original = core.dispatcher.sendCommands.bind(core.dispatcher);
      const spy = jest.spyOn(core.dispatcher, 'sendCommands').mockImplementation(async (commands, correlationId) => {
        sent.push(...commands.filter((c) => c.orderId === orderId));
        return original(commands, correlationId);
      });
      try {
        // The reminder's event again (SQS delivers at least once; the FIFO queue deduplicates for
        // 5 minutes only), as the saga's last step.
        const outcome = await core.runtime.deliver(orderId, holdReminderEventId(orderId), {
          type: 'HOLD_REMINDER_DUE',
        });
        expect(outcome).toBe('duplicate');
        await new Promise((r) => setTimeout(r, 3000));
      } finally {
        spy.mockRestore();
      }
      expect(sent.filter((c) => c.kind === 'ScheduleHoldReminder')).toHaveLength(0);
      expect(sent.filter((c) => c.kind === 'ChargePayment')).toHaveLength(1);
    });
  });
});
