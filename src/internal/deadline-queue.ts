/**
 * One clock timer for many deadlines.
 *
 * A policy with a fixed duration (a timeout's limit, a hedge's delay) sets deadlines in time
 * order: each new one is `now + duration`, never before the last. So its calls can wait in a
 * FIFO list with one timer armed for the head, instead of one `setTimeout` and `clearTimeout`
 * per call. Insertion walks back from the tail, so it is O(1) for a fixed duration and stays
 * correct (if slower) for durations that vary. Removal is O(1).
 *
 * When the list empties the timer is cleared: at once with a `ManualClock` or any custom clock
 * (tests see exact timers), at the end of the event-loop turn with `systemClock` (through the
 * shared end-of-turn queue of clock.ts), so a run of fast
 * calls in one turn arms one timer instead of one each. The timer is re-armed for the new head
 * when it fires.
 *
 * Internal: not exported from the package.
 * @module
 */
import { type Clock, atEndOfTurn, keepAlive, turnTimeOf } from '../clock.js';
import { type Linked, List } from './list.js';
import { MAX_TIMER_MS } from '../validate.js';

/** A node of a {@link DeadlineQueue}: the list's links plus when it falls due, kept on the waiting object itself. */
export interface Deadline extends Linked {
  /** When it falls due, by the queue's clock. */
  due: number;
}

/** Deadlines in time order, served by one timer. @internal */
export class DeadlineQueue<N extends Deadline> extends List<N> {
  private timer: unknown = undefined;
  private due = 0;
  private readonly defer: boolean;
  private clearPending = false;
  private readonly onTimer = (): void => this.fire();
  private readonly endOfTurn = (): void => {
    this.clearPending = false;
    if (this.head === undefined) this.stop();
  };

  constructor(
    private readonly clock: Clock,
    /** Called once for each node whose deadline has come, after it left the queue. */
    private readonly expire: (node: N) => void,
    /**
     * True when the deadline is itself what callers wait for (a hedge's next attempt): the timer
     * then keeps the process alive while a node waits. False (a timeout's deadline, a guard of
     * running work): `systemClock`'s unref'd timer as it is.
     */
    private readonly keep = false,
  ) {
    super();
    // A clock on the event loop's own timers: clearing can wait for the end of the turn.
    this.defer = turnTimeOf(clock) !== undefined;
  }

  /** True when no node waits. */
  get empty(): boolean {
    return this.head === undefined;
  }

  /** Adds `node` to fall due at `due`. */
  schedule(node: N, due: number): void {
    node.due = due;
    let after = this.tail;
    while (after !== undefined && after.due > due) after = after.prev as N | undefined;
    this.insertAfter(after, node);
    if (this.timer === undefined) this.arm(due);
    else if (due < this.due) {
      // A new earliest deadline (only with varying durations): the timer must fire sooner.
      this.clock.clearTimeout(this.timer);
      this.arm(due);
    }
  }

  /** Takes `node` out of the queue (no-op, false, if it is not queued). */
  override remove(node: N): boolean {
    if (!super.remove(node)) return false;
    if (this.head !== undefined || this.timer === undefined) return true;
    if (!this.defer) this.stop();
    else if (!this.clearPending) {
      this.clearPending = true;
      atEndOfTurn(this.endOfTurn);
    }
    return true;
  }

  /** Empties the queue without expiring anything, and clears the timer (for `dispose()`). */
  clear(): N[] {
    const nodes = this.drain();
    this.stop();
    return nodes;
  }

  private arm(due: number): void {
    const ms = due - this.clock.now();
    if (ms > MAX_TIMER_MS) {
      // A deadline past the timer limit (a hedge delay function's long value) is reached in
      // steps: `fire` finds nothing due yet and re-arms for the head. `due` is when the timer
      // fires, so `fire` expires nothing early.
      this.due = due - ms + MAX_TIMER_MS;
      this.timer = this.clock.setTimeout(this.onTimer, MAX_TIMER_MS);
      if (this.keep) keepAlive(this.timer);
      return;
    }
    this.due = due;
    this.timer = this.clock.setTimeout(this.onTimer, ms > 0 ? ms : 0);
    if (this.keep) keepAlive(this.timer);
  }

  private stop(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The timer fired: every node whose deadline has come expires, in order. */
  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    // A system timer may fire a hair before performance.now() reaches its due time.
    const limit = now > this.due ? now : this.due;
    for (let n = this.head; n !== undefined && n.due <= limit; n = this.head) {
      this.remove(n);
      this.expire(n);
    }
    const head = this.head;
    if (head !== undefined && this.timer === undefined) this.arm(head.due);
  }
}
