/**
 * Something to run now and then for each of many long-lived streams (a re-check of access), on ONE timer:
 * each registration lands in a random slot of a wheel of `slots` slots turning once per `periodMs`, so it
 * runs once per period, and registrations made together are spread over the period instead of running
 * together. Starts its timer with the first registration and stops it with the last. `add` returns the
 * function that removes the registration.
 */
export function recheckWheel(periodMs: number, slots = 60) {
  const wheel: Set<() => void>[] = Array.from({ length: slots }, () => new Set());
  let size = 0;
  let turn = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const slot = wheel[turn];
    turn = (turn + 1) % slots;
    for (const fn of slot) {
      try {
        fn();
      } catch {
        // one stream's failure is its own
      }
    }
  };
  return {
    add(fn: () => void): () => void {
      const slot = wheel[Math.floor(Math.random() * slots)];
      slot.add(fn);
      if (size++ === 0) {
        timer = setInterval(tick, periodMs / slots);
        timer.unref();
      }
      return () => {
        if (!slot.delete(fn)) return;
        if (--size === 0) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
  };
}
