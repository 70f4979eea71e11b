/** The pure shard planning: generated shard states, every plan takes exactly what was asked from seats that exist. */
import fc from 'fast-check';
import { blindTakes, planTakes, splitEvenly, type ShardState } from '../../src/participants/inventory-shards';

const shard = (k: number, available: number): ShardState => ({
  shard: k,
  shardTotal: available,
  availableQuantity: available,
  reservedQuantity: 0,
  soldQuantity: 0,
  priceMinor: 1000,
  currency: 'EUR',
});

it('splitEvenly: n parts, differing by at most 1, adding up to the total', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 100 }), (total, n) => {
      const parts = splitEvenly(total, n);
      expect(parts).toHaveLength(n);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
    }),
  );
});

it('planTakes: exactly the quantity from distinct shards that hold it, or refused when the shards together cannot', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 1, max: 60 }),
      fc.double({ min: 0, max: 0.999, noNaN: true }),
      (availability, quantity, r) => {
        const shards = availability.map((a, k) => shard(k, a));
        const plan = planTakes([{ ticketType: 'GA', quantity }], new Map([['GA', shards]]), () => r);
        const total = availability.reduce((a, b) => a + b, 0);
        if (total < quantity) {
          expect(plan).toEqual({ ok: false, ticketType: 'GA', available: total, requested: quantity });
          return;
        }
        if (!plan.ok) throw new Error('refused with enough seats');
        expect(plan.takes.reduce((a, t) => a + t.quantity, 0)).toBe(quantity);
        expect(new Set(plan.takes.map((t) => t.shard)).size).toBe(plan.takes.length);
        for (const t of plan.takes) expect(t.quantity).toBeLessThanOrEqual(availability[t.shard]);
        // One shard whenever one can cover it.
        if (availability.some((a) => a >= quantity)) expect(plan.takes).toHaveLength(1);
      },
    ),
  );
});

it('blindTakes: a shard within the count, shard 0 for an unsharded type', () => {
  const heads = new Map([
    ['GA', { shardCount: 8 }],
    ['VIP', {}],
  ]) as never;
  expect(
    blindTakes(
      [
        { ticketType: 'GA', quantity: 2 },
        { ticketType: 'VIP', quantity: 1 },
      ],
      heads,
      () => 0.999,
    ),
  ).toEqual([
    { ticketType: 'GA', shard: 7, quantity: 2 },
    { ticketType: 'VIP', shard: 0, quantity: 1 },
  ]);
});
