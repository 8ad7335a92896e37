/**
 * A room's messages keyed by seq. Seqs are gap-free per room, so the highest one seen is exactly the
 * `afterSeq` to resume from, and a message that arrives twice (history, then a replay after a
 * reconnect) replaces itself instead of showing twice.
 */
export class RoomLog<M extends { seq: number }> {
  private bySeq = new Map<number, M>();
  lastSeq = 0;

  /** Adds or replaces by seq; returns false when the seq was already there. */
  put(message: M): boolean {
    const had = this.bySeq.has(message.seq);
    this.bySeq.set(message.seq, message);
    if (message.seq > this.lastSeq) this.lastSeq = message.seq;
    return !had;
  }

  /** Replaces a message already shown (edits, deletes, reactions); unknown seqs are ignored. */
  update(message: M) {
    if (this.bySeq.has(message.seq)) this.bySeq.set(message.seq, message);
  }

  list(): M[] {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
}
