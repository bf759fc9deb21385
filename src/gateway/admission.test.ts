import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSilkError } from '../errors.js';
import { createAdmission, type AdmissionOptions, type AdmissionTicket } from './admission.js';

/** A network model: FIFO, `capacity` commits per ms at most, each at least `latency(t)` ms after admission. */
interface Model {
  readonly capacity: number;
  latency(t: number): number;
}

interface Run {
  /** Commits per ms between `from` and the end. */
  rate(from: number): number;
  /** Mean admission-to-commit time of the commits from `from` on. */
  latency(from: number): number;
  /** Mean time from arrival to commit of the commits from `from` on (waiting at the gateway included). */
  endToEnd(from: number): number;
  readonly limits: number[];
  readonly waited: number;
}

/**
 * Drives an admission control with a fake clock: `arrivalsPerMs` submissions arrive every ms for
 * `durationMs`; an admitted one commits when the model says. Waiting submissions are admitted when
 * a commit makes room, in the same ms.
 */
async function simulate(model: Model, arrivalsPerMs: (t: number) => number, durationMs: number, options: AdmissionOptions = {}): Promise<Run> {
  let t = 0;
  const admission = createAdmission({ targetLatencyMs: 200, maxWaitMs: 2 ** 30, maxQueued: 10 ** 9, ...options, now: () => t });
  const due: { at: number; ticket: AdmissionTicket; admitted: number; arrived: number }[] = [];
  let lastDone = 0;
  const done: { at: number; admitted: number; arrived: number }[] = [];
  const limits: number[] = [];
  const admit = (ticket: AdmissionTicket, arrived: number): void => {
    lastDone = Math.max(t + model.latency(t), lastDone + 1 / model.capacity);
    due.push({ at: lastDone, ticket, admitted: t, arrived });
  };
  let carry = 0;
  for (; t < durationMs; t++) {
    // FIFO with a growing completion time: `due` stays sorted.
    while (due.length > 0 && (due[0]?.at ?? Infinity) <= t) {
      const d = due.shift();
      if (d === undefined) break;
      done.push({ at: t, admitted: d.admitted, arrived: d.arrived });
      d.ticket.leave('committed');
    }
    await new Promise((resolve) => setImmediate(resolve));
    carry += arrivalsPerMs(t);
    for (; carry >= 1; carry--) {
      const arrived = t;
      const entered = admission.enter();
      if (entered instanceof Promise) void entered.then((ticket) => { admit(ticket, arrived); }, () => undefined);
      else admit(entered, arrived);
    }
    if (t % 1000 === 0) limits.push(admission.stats().limit);
  }
  const waited = admission.stats().waited;
  admission.close(new Error('end of the simulation'));
  const from = (f: number): typeof done => done.filter((d) => d.at >= f);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    rate: (f) => from(f).length / (durationMs - f),
    latency: (f) => mean(from(f).map((d) => d.at - d.admitted)),
    endToEnd: (f) => mean(from(f).map((d) => d.at - d.arrived)),
    limits,
    waited,
  };
}

describe('gateway admission control', () => {
  it('lets every submission through at once while the network keeps up', async () => {
    const run = await simulate({ capacity: 2, latency: () => 40 }, () => 1.5, 10_000);
    assert.equal(run.waited, 0);
    assert.ok(Math.abs(run.rate(2_000) - 1.5) < 0.05, `commits ${run.rate(2_000)}/ms`);
    assert.ok(run.latency(2_000) < 45, `latency ${run.latency(2_000)} ms`);
  });

  it('keeps an overloaded pipeline near the target latency while committing at capacity', async () => {
    // 1.5 × what the network commits: without admission the pipeline (and every reader's view of
    // staleness) grows by 1 transaction a ms, to a minute of latency by the end. Over a minute the
    // target must not creep up either.
    const run = await simulate({ capacity: 2, latency: () => 30 }, () => 3, 60_000);
    assert.ok(run.waited > 0);
    assert.ok(run.rate(10_000) > 1.9, `commits ${run.rate(10_000)}/ms, capacity 2/ms`);
    for (const from of [10_000, 40_000]) {
      const latency = run.latency(from);
      assert.ok(latency > 150 && latency < 260, `admission-to-commit ${latency.toFixed(0)} ms from ${from} ms on, against a 200 ms target`);
    }
  });

  it('does not spiral down when the network itself becomes slower than the target', async () => {
    // The latency jumps from 30 ms to 1 s at 10 s while the load stays at half the capacity: the
    // pipeline must hold 1,000 transactions, five times what 200 ms of commits would allow.
    const run = await simulate({ capacity: 2, latency: (t) => (t < 10_000 ? 30 : 1_000) }, () => 1, 40_000);
    assert.ok(run.rate(25_000) > 0.95, `commits ${run.rate(25_000)}/ms against 1/ms offered`);
    assert.ok(run.endToEnd(25_000) < 1_200, `arrival to commit ${run.endToEnd(25_000).toFixed(0)} ms, the network's own 1,000`);
  });

  it('takes the latency for a queue while the commit peer is behind the ordering service, however little its own shrinks shortened it', async () => {
    // The slow network above, seen by a gateway whose peer is behind the blocks ordered: other
    // gateways keep the peers busy, so this gateway's shrinks cannot shorten the queue, and it
    // must not widen its pipeline to the queue's latency (where, on one saturated machine, the
    // growing pipeline turned into read conflicts and the work done fell).
    const slow: Model = { capacity: 2, latency: (t) => (t < 10_000 ? 30 : 1_000) };
    const own = await simulate(slow, () => 1, 40_000);
    const queued = await simulate(slow, () => 1, 40_000, { behind: () => true });
    const last = (r: Run): number => r.limits.at(-1) ?? 0;
    assert.ok(last(own) >= 1_000, `limit ${last(own)} with the latency learnt as the network's own`);
    assert.ok(last(queued) <= 200, `limit ${last(queued)} while the peer is behind: a target's worth of commits, not the queue's`);
  });

  it('resumes at the rate it had after a stall of the network', async () => {
    // No commit at all between 5 s and 7 s (an ordering election), then the same network.
    const run = await simulate({ capacity: 2, latency: (t) => (t >= 5_000 && t < 7_000 ? 7_000 - t + 30 : 30) }, () => 1.5, 20_000);
    assert.ok(run.rate(10_000) > 1.45, `commits ${run.rate(10_000)}/ms against 1.5/ms offered`);
    assert.ok(run.endToEnd(12_000) < 100, `arrival to commit ${run.endToEnd(12_000).toFixed(0)} ms once caught up`);
  });

  it('admits waiting submissions first come first served as room frees', async () => {
    const admission = createAdmission({ minInFlight: 1, maxInFlight: 1 });
    const first = admission.enter();
    assert.ok(!(first instanceof Promise));
    const order: number[] = [];
    const second = admission.enter();
    const third = admission.enter();
    assert.ok(second instanceof Promise && third instanceof Promise);
    void second.then((t) => { order.push(2); t.leave('committed'); });
    void third.then((t) => { order.push(3); t.leave('committed'); });
    assert.deepEqual(admission.stats(), { limit: 1, inFlight: 1, queued: 2, refused: 0, waited: 2 });
    first.leave('failed');
    await Promise.all([second, third]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, [2, 3]);
    assert.equal(admission.stats().inFlight, 0);
  });

  it('refuses with GATEWAY_BUSY after maxWaitMs, and at once beyond maxQueued', async () => {
    const admission = createAdmission({ minInFlight: 1, maxInFlight: 1, maxWaitMs: 30, maxQueued: 1, targetLatencyMs: 2_500 });
    const held = admission.enter();
    const waiting = admission.enter();
    assert.ok(waiting instanceof Promise);
    assert.throws(() => admission.enter(), (e: unknown) => isSilkError(e, 'GATEWAY_BUSY') && /1 submissions are already waiting/.test(e.message));
    await assert.rejects(waiting, (e: unknown) => isSilkError(e, 'GATEWAY_BUSY') && e.details.retryAfterSeconds === 3 && /waited 30 ms/.test(e.message));
    assert.equal(admission.stats().refused, 2);
    // The refused one left no trace: the next submission gets the room the held one frees.
    const next = admission.enter();
    assert.ok(next instanceof Promise);
    (held as AdmissionTicket).leave('committed');
    const ticket = await next;
    ticket.leave('committed');
    assert.equal(admission.stats().inFlight, 0);
  });

  it('refuses waiting submissions when closed', async () => {
    const admission = createAdmission({ minInFlight: 1, maxInFlight: 1 });
    admission.enter();
    const waiting = admission.enter();
    admission.close(new Error('closing'));
    await assert.rejects(waiting as Promise<AdmissionTicket>, /closing/);
    assert.equal(admission.stats().queued, 0);
  });

  it('rejects options that cannot work', () => {
    assert.throws(() => createAdmission({ minInFlight: 0 }), RangeError);
    assert.throws(() => createAdmission({ minInFlight: 10, maxInFlight: 5 }), RangeError);
    assert.throws(() => createAdmission({ targetLatencyMs: 0 }), RangeError);
  });
});
