/**
 * The payment participant. One Payments record per order is the guard against charging twice:
 * ChargePayment first records the intent (IN_FLIGHT, attribute_not_exists), then calls the gateway
 * with chargeId = ch_<orderId> as its idempotency key, then records the outcome conditionally
 * (IN_FLIGHT -> CAPTURED | DECLINED). A worker that dies in between leaves IN_FLIGHT behind; the
 * re-delivered command resumes the same gateway call. VoidPayment takes the record first if the
 * charge has not started, so a late charge finds VOIDED and never reaches the gateway.
 */
import { isIsoCurrency, isMinorUnits } from '../money/money';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { OrderSagaEvent } from '../../machines/order-saga/types';
import type { ChargePayment, PaymentCommand, RefundPayment, VoidPayment } from './commands';
import { defaultSleep, nowIso, type ParticipantDeps } from './deps';
import { isConditionalCheckFailed, isTransactionConflict } from '../aws/dynamo-errors';
import { backoff, MAX_ATTEMPTS, putIfAbsent } from './retries';
import { ContentionError, PermanentCommandError, RetryLaterError } from './errors';
import { simulateGatewayCharge, type GatewayOutcome } from './gateway';
import { readPayment, type PaymentRecord } from './records';
import { GATEWAY_TIMEOUT_MARGIN_MS } from '../config/ranges';

export const chargeIdFor = (orderId: string): string => `ch_${orderId}`;
export const refundIdFor = (orderId: string): string => `rf_${orderId}`;

/**
 * A charge's lease: the simulated delay plus how long one gateway call may take beyond it
 * (GATEWAY_TIMEOUT_MARGIN_MS, config/ranges.ts). An IN_FLIGHT record younger than the lease belongs
 * to a charge that is still running: others wait for it (a real gateway refuses concurrent calls
 * with one idempotency key). An older one was orphaned by a dead worker: the next command that
 * finds it — a redelivered charge or a void — resumes the same idempotent call.
 */
const chargeLeaseMs = (deps: ParticipantDeps): number => deps.paymentSlowMs + GATEWAY_TIMEOUT_MARGIN_MS;

/** Milliseconds until an IN_FLIGHT record's lease runs out (≤ 0: orphaned, resume it). */
function leaseLeftMs(record: PaymentRecord, deps: ParticipantDeps): number {
  const since = Date.parse(record.updatedAt ?? record.createdAt ?? '') || 0;
  return since + chargeLeaseMs(deps) - (deps.now?.() ?? new Date()).getTime();
}

/**
 * Settles an IN_FLIGHT charge: waits (RetryLaterError) while its lease runs, resumes it once
 * orphaned. Exactly one resumer wins the lease; the others wait for its outcome.
 */
async function settleInFlight(
  record: PaymentRecord,
  deps: ParticipantDeps,
  log: ParticipantDeps['logger'],
): Promise<OrderSagaEvent> {
  const left = leaseLeftMs(record, deps);
  if (left > 0) throw new RetryLaterError(`charge ${record.orderId} is still in flight`, left + 250);
  const resumed = await countResumedAttempt(record, deps);
  if (!resumed) {
    const now = await mustRead(deps, record.orderId);
    const reply = settledReply(now);
    if (reply) return reply;
    throw new RetryLaterError(`charge ${record.orderId} was resumed by another worker`, leaseLeftMs(now, deps) + 250);
  }
  log.warn('resuming an orphaned in-flight charge', { chargeId: resumed.chargeId, attempts: resumed.attempts });
  return completeCharge(resumed, deps, log);
}

export async function handlePaymentCommand(cmd: PaymentCommand, deps: ParticipantDeps): Promise<OrderSagaEvent> {
  switch (cmd.kind) {
    case 'ChargePayment':
      return chargePayment(cmd, deps);
    case 'VoidPayment':
      return voidPayment(cmd, deps);
    case 'RefundPayment':
      return refundPayment(cmd, deps);
  }
}

/** What the saga is told about a settled record. */
function settledReply(record: PaymentRecord): OrderSagaEvent | null {
  switch (record.status) {
    case 'CAPTURED':
    case 'REFUNDED': // the recorded truth: it was captured (and then refunded)
      return {
        type: 'PAYMENT_CAPTURED',
        paymentId: record.chargeId ?? chargeIdFor(record.orderId),
        amountMinor: record.amountMinor ?? 0,
        currency: record.currency ?? '',
      };
    case 'DECLINED':
      return { type: 'PAYMENT_DECLINED', reason: record.reason ?? 'declined' };
    case 'VOIDED':
      return { type: 'PAYMENT_DECLINED', reason: 'voided' };
    case 'IN_FLIGHT':
      return null;
  }
}

/** The payment record of an order, unless it has one. */
const putPaymentIfAbsent = (deps: ParticipantDeps, record: PaymentRecord): Promise<boolean> =>
  putIfAbsent(deps, deps.tables.payments, 'orderId', record);

async function mustRead(deps: ParticipantDeps, orderId: string): Promise<PaymentRecord> {
  const record = await readPayment(deps, orderId);
  // A conditional put just failed on this key, and payment records are never deleted.
  if (!record) throw new RetryLaterError(`payment ${orderId} vanished after a conditional failure`);
  return record;
}

// ---------------------------------------------------------------------------------------------
// ChargePayment
// ---------------------------------------------------------------------------------------------

function invalidCharge(cmd: ChargePayment): string | null {
  // A free order never gets here (the saga skips payment at a total of 0): 0 is as wrong as -1.
  if (!isMinorUnits(cmd.amountMinor) || cmd.amountMinor === 0)
    return `invalid amount ${String(cmd.amountMinor)} (minor units)`;
  if (!isIsoCurrency(cmd.currency)) return 'invalid currency';
  if (typeof cmd.paymentToken !== 'string') return 'no payment token';
  return null;
}

async function chargePayment(cmd: ChargePayment, deps: ParticipantDeps): Promise<OrderSagaEvent> {
  const log = deps.logger.child({ orderId: cmd.orderId, commandId: cmd.commandId, command: cmd.kind });
  const now = nowIso(deps);
  const invalid = invalidCharge(cmd);
  const intent: PaymentRecord = {
    orderId: cmd.orderId,
    status: invalid === null ? 'IN_FLIGHT' : 'DECLINED',
    amountMinor: cmd.amountMinor,
    currency: cmd.currency,
    paymentToken: cmd.paymentToken,
    chargeId: chargeIdFor(cmd.orderId),
    attempts: invalid === null ? 1 : 0,
    ...(invalid === null ? {} : { reason: invalid, declinedAt: now }),
    createdAt: now,
    updatedAt: now,
  };
  if (await putPaymentIfAbsent(deps, intent)) {
    if (invalid !== null) {
      log.warn('charge refused before the gateway', { reason: invalid });
      return { type: 'PAYMENT_DECLINED', reason: invalid };
    }
    return completeCharge(intent, deps, log);
  }

  const existing = await mustRead(deps, cmd.orderId);
  // A duplicate racing a running charge waits; one whose worker died resumes the same call.
  if (existing.status === 'IN_FLIGHT') return settleInFlight(existing, deps, log);
  const reply = settledReply(existing)!;
  log.info('charge already handled', { status: existing.status });
  return reply;
}

/** Takes over an orphaned charge: attempts + 1 and a fresh lease, if nobody else did meanwhile. */
async function countResumedAttempt(record: PaymentRecord, deps: ParticipantDeps): Promise<PaymentRecord | null> {
  try {
    const { Attributes } = await deps.doc.send(
      new UpdateCommand({
        TableName: deps.tables.payments,
        Key: { orderId: record.orderId },
        UpdateExpression: 'SET #attempts = if_not_exists(#attempts, :zero) + :one, #updatedAt = :now',
        ConditionExpression: '#status = :inFlight AND #updatedAt = :seen',
        ExpressionAttributeNames: { '#attempts': 'attempts', '#updatedAt': 'updatedAt', '#status': 'status' },
        ExpressionAttributeValues: {
          ':zero': 0,
          ':one': 1,
          ':now': nowIso(deps),
          ':inFlight': 'IN_FLIGHT',
          ':seen': record.updatedAt,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes as PaymentRecord;
  } catch (error) {
    if (isConditionalCheckFailed(error) || isTransactionConflict(error)) return null;
    throw error;
  }
}

/** Calls the gateway for the recorded intent and records its outcome, IN_FLIGHT -> outcome. */
async function completeCharge(
  record: PaymentRecord,
  deps: ParticipantDeps,
  log: ParticipantDeps['logger'],
): Promise<OrderSagaEvent> {
  const chargeId = record.chargeId ?? chargeIdFor(record.orderId);
  const outcome: GatewayOutcome = await simulateGatewayCharge(
    {
      chargeId,
      paymentToken: record.paymentToken ?? '',
      amountMinor: record.amountMinor ?? 0,
      currency: record.currency ?? '',
    },
    { slowMs: deps.paymentSlowMs, sleep: deps.sleep ?? defaultSleep },
  );
  const now = nowIso(deps);
  const captured = outcome.outcome === 'captured';
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      const { Attributes } = await deps.doc.send(
        new UpdateCommand({
          TableName: deps.tables.payments,
          Key: { orderId: record.orderId },
          UpdateExpression: captured
            ? 'SET #status = :outcome, #at = :now, #updatedAt = :now'
            : 'SET #status = :outcome, #at = :now, #updatedAt = :now, #reason = :reason',
          ConditionExpression: '#status = :inFlight',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#at': captured ? 'capturedAt' : 'declinedAt',
            '#updatedAt': 'updatedAt',
            ...(captured ? {} : { '#reason': 'reason' }),
          },
          ExpressionAttributeValues: {
            ':outcome': captured ? 'CAPTURED' : 'DECLINED',
            ':now': now,
            ':inFlight': 'IN_FLIGHT',
            ...(outcome.outcome === 'declined' ? { ':reason': outcome.reason } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const settled = Attributes as PaymentRecord;
      log.info(captured ? 'payment captured' : 'payment declined', {
        chargeId,
        amountMinor: settled.amountMinor,
        reason: settled.reason,
      });
      const reply = settledReply(settled);
      if (!reply) throw new Error(`payment ${record.orderId} still IN_FLIGHT after settling`);
      return reply;
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        // Another delivery of the same charge recorded the outcome first: that is the answer.
        const reply = settledReply(await mustRead(deps, record.orderId));
        if (!reply) throw new RetryLaterError(`charge ${record.orderId} is still in flight`);
        return reply;
      }
      if (!isTransactionConflict(error)) throw error;
      await backoff(deps, attempt);
    }
  }
  throw new ContentionError(`charge ${record.orderId}: still contended after ${MAX_ATTEMPTS} attempts`);
}

// ---------------------------------------------------------------------------------------------
// VoidPayment
// ---------------------------------------------------------------------------------------------

async function voidPayment(cmd: VoidPayment, deps: ParticipantDeps): Promise<OrderSagaEvent> {
  const log = deps.logger.child({ orderId: cmd.orderId, commandId: cmd.commandId, command: cmd.kind });
  const now = nowIso(deps);
  const voided: PaymentRecord = {
    orderId: cmd.orderId,
    status: 'VOIDED',
    voidedAt: now,
    createdAt: now,
    updatedAt: now,
  };
  if (await putPaymentIfAbsent(deps, voided)) {
    log.info('payment voided before any charge');
    return { type: 'PAYMENT_DECLINED', reason: 'voided' };
  }
  const existing = await mustRead(deps, cmd.orderId);
  // Too late to void: the charge started. Wait for it, or finish it if its worker died.
  if (existing.status === 'IN_FLIGHT') return settleInFlight(existing, deps, log);
  log.info('void found a settled payment', { status: existing.status });
  return settledReply(existing)!;
}

// ---------------------------------------------------------------------------------------------
// RefundPayment
// ---------------------------------------------------------------------------------------------

async function refundPayment(cmd: RefundPayment, deps: ParticipantDeps): Promise<OrderSagaEvent> {
  const log = deps.logger.child({ orderId: cmd.orderId, commandId: cmd.commandId, command: cmd.kind });
  if (!isMinorUnits(cmd.amountMinor) || cmd.amountMinor === 0) {
    throw new PermanentCommandError(
      'invalid-command',
      `refund for order ${cmd.orderId}: invalid amount ${String(cmd.amountMinor)} (minor units)`,
    );
  }
  const refundId = refundIdFor(cmd.orderId);
  let conditionFailed = false;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && !conditionFailed; attempt++) {
    try {
      await deps.doc.send(
        new UpdateCommand({
          TableName: deps.tables.payments,
          Key: { orderId: cmd.orderId },
          UpdateExpression:
            'SET #status = :refunded, #refundId = :refundId, #refundedAmountMinor = :amount, #refundedAt = :now, #updatedAt = :now',
          ConditionExpression:
            '#status = :captured AND #chargeId = :chargeId AND #currency = :currency AND #amount >= :amount',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#refundId': 'refundId',
            '#refundedAmountMinor': 'refundedAmountMinor',
            '#refundedAt': 'refundedAt',
            '#updatedAt': 'updatedAt',
            '#chargeId': 'chargeId',
            '#currency': 'currency',
            '#amount': 'amountMinor',
          },
          ExpressionAttributeValues: {
            ':refunded': 'REFUNDED',
            ':refundId': refundId,
            ':amount': cmd.amountMinor,
            ':now': nowIso(deps),
            ':captured': 'CAPTURED',
            ':chargeId': cmd.paymentId,
            ':currency': cmd.currency,
          },
        }),
      );
      log.info('refund issued', { refundId, amountMinor: cmd.amountMinor });
      return { type: 'REFUND_ISSUED', refundId, amountMinor: cmd.amountMinor };
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        conditionFailed = true;
        continue;
      }
      if (!isTransactionConflict(error)) throw error;
      await backoff(deps, attempt);
    }
  }
  if (!conditionFailed)
    throw new ContentionError(`refund ${cmd.orderId}: still contended after ${MAX_ATTEMPTS} attempts`);
  const existing = await readPayment(deps, cmd.orderId);
  if (existing?.status === 'REFUNDED') {
    log.info('refund already issued', { refundId: existing.refundId });
    return {
      type: 'REFUND_ISSUED',
      refundId: existing.refundId ?? refundId,
      amountMinor: existing.refundedAmountMinor ?? 0,
    };
  }
  if (existing?.status === 'CAPTURED') {
    throw new PermanentCommandError(
      'illegal-state',
      `cannot refund order ${cmd.orderId}: the command (${cmd.paymentId}, ${cmd.amountMinor} minor units ${cmd.currency}) does not match the capture (${existing.chargeId ?? '?'}, ${existing.amountMinor ?? '?'} minor units ${existing.currency ?? '?'})`,
      { orderId: cmd.orderId, commandId: cmd.commandId },
    );
  }
  if (existing === undefined) {
    throw new PermanentCommandError('illegal-state', `cannot refund order ${cmd.orderId}: no payment recorded`, {
      orderId: cmd.orderId,
    });
  }
  throw new PermanentCommandError(
    'illegal-state',
    `cannot refund order ${cmd.orderId}: the payment is ${existing.status}`,
    {
      orderId: cmd.orderId,
      status: existing.status,
      commandId: cmd.commandId,
    },
  );
}
