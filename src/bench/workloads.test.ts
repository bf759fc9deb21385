import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createArgsGenerator, findWorkload, type Workload } from './workloads.js';

const rmw = findWorkload('rmw') as Workload;

describe('bench workload arguments', () => {
  it('draw the same keys and values for a seed, run after run', () => {
    const g = createArgsGenerator(rmw, 1);
    // Pinned: a benchmark run is reproducible only while this sequence stays the same.
    assert.deepEqual(g.next(), { key: 'k6270', value: 'aG88rLSA9CEizpjEeyVrlcAKXsmOHVlSCV9oUjuzpjTJhqdM1o9SysP75Q4Z5hc1s2F6RkP6i8kyhyuOFGeY0qks3riOIuhiesPO' });
    assert.deepEqual(g.next(), { key: 'k1168', value: 'FGnXp971alb9uS1fp1XXnfjzHr2t41NPoxtmq57juecWypjYt3GAQvpHVXdmNObuA2OwvLa5HJNheYiSrNsH5egkQcGxWqf98a1g' });
    assert.deepEqual(g.forKey(3), { key: 'k3', value: 'yLGxSir7MHckMojNLbebyPOXNP7b15bZHJxgfQxaFIQ1EVeyTm2WflRcX7u40MDLBmi6OcLKjj7qaEu8NDaNcW8lO2KKzMJW2yVS' });
    const again = createArgsGenerator(rmw, 1);
    assert.equal(again.next().value.slice(0, 8), 'aG88rLSA');
    assert.notEqual(createArgsGenerator(rmw, 2).next().value, 'aG88rLSA9CEizpjEeyVrlcAKXsmOHVlSCV9oUjuzpjTJhqdM1o9SysP75Q4Z5hc1s2F6RkP6i8kyhyuOFGeY0qks3riOIuhiesPO');
  });

  it('give every value the workload\'s size in the alphabet, and keys within its key space, for large values too', () => {
    // A million characters is past what one call can take as arguments.
    for (const valueBytes of [100, 4096, 4097, 1_000_000]) {
      const w: Workload = { ...rmw, valueBytes, keys: 50 };
      const g = createArgsGenerator(w, 9);
      for (let i = 0; i < (valueBytes > 10_000 ? 2 : 20); i++) {
        const { key, value } = g.next();
        assert.equal(value.length, valueBytes);
        assert.match(value, /^[A-Za-z0-9]+$/);
        const n = Number(key.slice(1));
        assert.ok(key.startsWith('k') && Number.isInteger(n) && n >= 0 && n < 50, key);
      }
    }
  });
});
