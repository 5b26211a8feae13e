/**
 * The FIFO wait queue shared by the bulkhead, the rate limiter and the adaptive limit: an
 * intrusive doubly linked list, so a waiter that leaves early (its caller aborted, its queue
 * timeout passed) is unlinked in O(1) and its place is free at once. cockatiel keeps such
 * entries in an array until they reach the head; `Array.prototype.shift`/`splice` over a long
 * queue is O(n) besides.
 *
 * @internal
 * @module
 */
import { type Clock, keepAlive } from '../clock.js';
import { MAX_TIMER_MS } from '../validate.js';
import type { Ctx, Fn } from './run.js';
import type { Subscription } from './token.js';

/**
 * A node of a {@link WaitQueue}. Waiters extend it, so queueing allocates nothing beyond the
 * waiter itself.
 *
 * @internal
 * @example
 * ```ts
 * import { WaitNode, WaitQueue } from './waiting-room.js';
 * class Waiter extends WaitNode { constructor(readonly id: number) { super(); } }
 * const q = new WaitQueue<Waiter>();
 * q.push(new Waiter(1));
 * q.shift()?.id; // 1
 * ```
 */
export class WaitNode {
  /** @internal */ prev: WaitNode | undefined = undefined;
  /** @internal */ next: WaitNode | undefined = undefined;
  /** True while the node is in a queue: removal is idempotent, a node is in one queue at most. */
  queued = false;
}

/**
 * FIFO of {@link WaitNode}s: `push`, `shift`, `peek` and `remove` are O(1) and allocation-free.
 *
 * @internal
 * @example
 * ```ts
 * import { WaitNode, WaitQueue } from './waiting-room.js';
 * const q = new WaitQueue<WaitNode>();
 * const a = new WaitNode();
 * const b = new WaitNode();
 * q.push(a);
 * q.push(b);
 * q.remove(a); // true: a's caller gave up; b is now first
 * q.peek() === b; // true
 * ```
 */
export class WaitQueue<N extends WaitNode> {
  private head: N | undefined = undefined;
  private tail: N | undefined = undefined;
  /** Number of nodes in the queue. */
  size = 0;

  /** Appends `node` (which must not be in a queue). */
  push(node: N): void {
    node.queued = true;
    node.next = undefined;
    const tail = this.tail;
    node.prev = tail;
    if (tail === undefined) this.head = node;
    else tail.next = node;
    this.tail = node;
    this.size++;
  }

  /** The first node, left in place. */
  peek(): N | undefined {
    return this.head;
  }

  /** Removes and returns the first node. */
  shift(): N | undefined {
    const node = this.head;
    if (node !== undefined) this.unlink(node);
    return node;
  }

  /** Removes `node` wherever it is; false (and nothing changes) if it is not queued. */
  remove(node: N): boolean {
    if (!node.queued) return false;
    this.unlink(node);
    return true;
  }

  private unlink(node: N): void {
    const { prev, next } = node;
    if (prev === undefined) this.head = next as N | undefined;
    else prev.next = next;
    if (next === undefined) this.tail = prev as N | undefined;
    else next.prev = prev;
    // Drop the links so a removed waiter never keeps its neighbours reachable.
    node.prev = undefined;
    node.next = undefined;
    node.queued = false;
    this.size--;
  }
}

/** The two ends of a promise, kept on a waiter until its turn comes. @internal */
export interface Settleable {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

let capturedResolve: (value: unknown) => void = () => undefined;
let capturedReject: (error: unknown) => void = () => undefined;
// One executor for every waiter: `new Promise` calls it synchronously, so the resolvers can be
// picked up right after without allocating a closure per waiting call.
const capture = (resolve: (value: unknown) => void, reject: (error: unknown) => void): void => {
  capturedResolve = resolve;
  capturedReject = reject;
};

/**
 * A new promise whose `resolve` and `reject` are stored on `waiter`.
 *
 * @internal
 * @example
 * ```ts
 * import { promiseFor, type Settleable } from './waiting-room.js';
 * const w: Settleable = { resolve: () => {}, reject: () => {} };
 * const p = promiseFor<number>(w);
 * w.resolve(1); // p fulfils with 1
 * ```
 */
export function promiseFor<T>(waiter: Settleable): Promise<T> {
  const promise = new Promise<T>(capture as (resolve: (value: T) => void, reject: (error: unknown) => void) => void);
  waiter.resolve = capturedResolve;
  waiter.reject = capturedReject;
  return promise;
}

function noop(): void {}

/**
 * A call waiting in a policy's queue: what to run once admitted, and the two ends of the promise
 * its caller holds. Policies extend it with what they need (a bulkhead waiter's deadline).
 *
 * @internal
 */
export class Waiter extends WaitNode implements Settleable {
  resolve: (value: unknown) => void = noop;
  reject: (error: unknown) => void = noop;
  /** The caller's abort subscription, cancelled when the waiter leaves the queue either way. */
  sub: Subscription | undefined = undefined;
  constructor(
    readonly fn: Fn<unknown>,
    readonly ctx: Ctx,
    /** Start time for metrics (0 when metrics are off). */
    readonly started: number,
  ) {
    super();
  }
}

/**
 * The queue of a policy that makes calls wait (bulkhead, adaptive limit, rate limiter), with the
 * one clock timer it needs and the rules every such queue shares: a waiter whose caller aborts
 * leaves at once and rejects with the caller's reason, its place is free at once, and the timer
 * goes when the queue empties.
 *
 * @internal
 */
export class WaitingRoom<W extends Waiter> extends WaitQueue<W> {
  private timer: unknown = undefined;

  constructor(
    private readonly clock: Clock,
    /**
     * True when the timer is itself what waiters wait for (a rate limiter's next permit): it keeps
     * the process alive. A queue timeout guarding waiters behind running work stays unref'd.
     */
    private readonly keep = false,
  ) {
    super();
  }

  /** Queues `w` and returns the promise its caller waits on. */
  join<T>(w: W): Promise<T> {
    const promise = promiseFor<T>(w);
    this.push(w);
    const tok = w.ctx.tok;
    // The caller's abort (or an outer timeout's) takes the call out of the queue at once.
    if (tok !== undefined) w.sub = tok.onAbort((reason) => this.leave(w, reason));
    return promise;
  }

  /** Takes `w` out early (it rejects with `reason`); no-op if it already left. */
  leave(w: W, reason: unknown): void {
    if (!this.remove(w)) return;
    w.sub?.cancel();
    if (this.size === 0) this.clearTimer();
    w.reject(reason);
  }

  /** The first waiter, out of the queue, its abort subscription cancelled. */
  take(): W | undefined {
    const w = this.shift();
    w?.sub?.cancel();
    return w;
  }

  /**
   * Arms the queue's timer unless one is armed. A delay past the timer limit is armed in steps of
   * at most 2^31 − 1 ms (the callback re-checks its waiters and re-arms), never overflowing.
   */
  arm(fn: () => void, ms: number): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(fn, ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms);
    if (this.keep) keepAlive(this.timer);
  }

  /** Call first thing in the timer's callback: the timer is spent. */
  fired(): void {
    this.timer = undefined;
  }

  clearTimer(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Rejects every waiter (their work never started) and clears the timer: for `dispose()`. */
  rejectAll(error: unknown): void {
    this.clearTimer();
    for (let w = this.take(); w !== undefined; w = this.take()) w.reject(error);
  }
}
