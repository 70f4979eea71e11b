/**
 * The simulated payment gateway. Keyed by token: `tok_success` captures, `tok_declined` is
 * declined, `tok_slow` captures after `slowMs`, anything else is declined. Like a real gateway
 * called with an idempotency key, calling it again for the same chargeId gives the same outcome.
 */
export type GatewayOutcome = { outcome: 'captured' } | { outcome: 'declined'; reason: string };

export interface GatewayCharge {
  chargeId: string;
  paymentToken: string;
  /** Minor units of `currency`, as card gateways take them. */
  amountMinor: number;
  currency: string;
}

export async function simulateGatewayCharge(
  charge: GatewayCharge,
  options: { slowMs: number; sleep: (ms: number) => Promise<void> },
): Promise<GatewayOutcome> {
  switch (charge.paymentToken) {
    case 'tok_success':
      return { outcome: 'captured' };
    case 'tok_slow':
      await options.sleep(options.slowMs);
      return { outcome: 'captured' };
    case 'tok_declined':
      return { outcome: 'declined', reason: 'card declined' };
    default:
      return { outcome: 'declined', reason: 'unknown payment token' };
  }
}
