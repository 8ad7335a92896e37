/**
 * A subscription stream that starts with the current state and then follows changes, with no gap:
 * the topic is listened to before the current state is read. It ends after a terminal event.
 */
export async function* currentThenLive<E, T>(
  source: AsyncIterable<E>,
  current: () => Promise<T>,
  map: (event: E) => Promise<T | null> | T | null,
  isTerminal: (value: T) => boolean,
): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  // The first next() registers the listener (the pub/sub stream starts lazily).
  let next = it.next();
  next.catch(() => {});
  try {
    const first = await current();
    yield first;
    if (isTerminal(first)) return;
    for (;;) {
      const r = await next;
      if (r.done) return;
      const value = await map(r.value);
      if (value !== null) {
        yield value;
        if (isTerminal(value)) return;
      }
      next = it.next();
    }
  } finally {
    await it.return?.();
  }
}
