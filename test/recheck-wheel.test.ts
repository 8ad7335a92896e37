/**
 * The re-check wheel (src/live/wheel.ts) that room and thread streams use instead of a timer each: every
 * registration runs about once per period, a removed one no longer runs, and the timer stops with the last.
 */
import { describe, expect, it } from 'vitest';
import { recheckWheel } from '../src/live/wheel.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('recheckWheel', () => {
  it('runs each registration once per period, spread over it, until removed', async () => {
    const wheel = recheckWheel(200, 10);
    const runs = [0, 0, 0];
    const removers = runs.map((_, i) => wheel.add(() => runs[i]++));
    await sleep(650);
    // Three periods, give or take the slot each landed in.
    for (const n of runs) {
      expect(n).toBeGreaterThanOrEqual(2);
      expect(n).toBeLessThanOrEqual(4);
    }
    removers[0]();
    const stopped = runs[0];
    await sleep(450);
    expect(runs[0]).toBe(stopped);
    expect(runs[1]).toBeGreaterThan(2);
    removers[1]();
    removers[2]();
    // Removing twice is harmless, and a new registration restarts the timer.
    removers[2]();
    let again = 0;
    const off = wheel.add(() => again++);
    await sleep(450);
    expect(again).toBeGreaterThanOrEqual(1);
    off();
  });

  it('a registration that throws does not stop the others', async () => {
    const wheel = recheckWheel(100, 1);
    let ran = 0;
    const offs = [wheel.add(() => { throw new Error('boom'); }), wheel.add(() => ran++)];
    await sleep(250);
    expect(ran).toBeGreaterThanOrEqual(1);
    for (const off of offs) off();
  });
});
