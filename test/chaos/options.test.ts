/** The chaos runner's command line and its seeded PRNG (no processes started). */
import { defaultOptions, parseChaosArgs, parseKillRate, UsageError } from '../../scripts/chaos/options';
import { createPrng } from '../../scripts/chaos/prng';

it('reads a kill rate per minute or per N orders', () => {
  expect(parseKillRate('12/min')).toEqual({ per: 'minute', value: 12 });
  expect(parseKillRate('3')).toEqual({ per: 'minute', value: 3 });
  expect(parseKillRate('1/40orders')).toEqual({ per: 'orders', every: 40 });
  expect(parseKillRate('2/50 orders')).toEqual({ per: 'orders', every: 25 });
  expect(() => parseKillRate('often')).toThrow(UsageError);
});

it('parses the documented command over the defaults', () => {
  const options = parseChaosArgs([
    '--orders',
    '1000',
    '--workers',
    '4',
    '--kill-rate',
    '1/40orders',
    '--duplicate-rate',
    '0.1',
    '--seed=42',
  ]);
  expect(options).toEqual(
    defaultOptions({ orders: 1000, workers: 4, killRate: { per: 'orders', every: 40 }, duplicateRate: 0.1, seed: 42 }),
  );
  expect(() => parseChaosArgs(['--duplicate-rate', '1.5'])).toThrow(UsageError);
  expect(() => parseChaosArgs(['--nope'])).toThrow(UsageError);
});

it('the same seed gives the same draws; forks are independent streams', () => {
  const a = createPrng(42);
  const b = createPrng(42);
  const draws = (p: ReturnType<typeof createPrng>) => Array.from({ length: 5 }, () => p.next());
  expect(draws(a)).toEqual(draws(b));
  expect(draws(createPrng(42).fork('orders'))).not.toEqual(draws(createPrng(42).fork('faults')));
  const counts = { x: 0, y: 0 };
  const p = createPrng(7);
  for (let i = 0; i < 10000; i++) counts[p.weighted({ x: 0.75, y: 0.25 })]++;
  expect(counts.x / 10000).toBeCloseTo(0.75, 1);
});
