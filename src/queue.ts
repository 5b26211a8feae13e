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

/**
 * A node of a {@link WaitQueue}. Waiters extend it, so queueing allocates nothing beyond the
 * waiter itself.
 *
 * @internal
 * @example
 * ```ts
 * import { WaitNode, WaitQueue } from './queue.js';
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
 * import { WaitNode, WaitQueue } from './queue.js';
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
 * import { promiseFor, type Settleable } from './queue.js';
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
