/**
 * One intrusive doubly linked list, serving both kinds of queue: the FIFO of calls waiting for a
 * permit (waiting-room.ts) and the time-ordered deadlines of a timeout or hedge
 * (deadline-queue.ts). The links live on the queued object itself, so queueing allocates nothing,
 * and a node that leaves early (its caller aborted, its deadline passed) is unlinked in O(1) with
 * its place free at once. (cockatiel keeps such entries in an array until they reach the head;
 * `Array.prototype.shift`/`splice` over a long queue is O(n) besides.)
 *
 * Not exported from the package.
 *
 * @module
 */

/** The fields a list keeps on a node. A node is in one list at most. @internal */
export interface Linked {
  prev: Linked | undefined;
  next: Linked | undefined;
  /** True while the node is in a list: removal is idempotent. */
  queued: boolean;
}

/**
 * A ready-made {@link Linked} base class, for nodes that extend nothing else.
 *
 * @internal
 * @example
 * ```ts
 * import { ListNode, List } from './list.js';
 * class Item extends ListNode { constructor(readonly id: number) { super(); } }
 * const q = new List<Item>();
 * q.push(new Item(1));
 * q.shift()?.id; // 1
 * ```
 */
export class ListNode implements Linked {
  prev: Linked | undefined = undefined;
  next: Linked | undefined = undefined;
  queued = false;
}

/**
 * The list: `push`, `shift`, `peek`, `insertAfter` and `remove` are O(1) and allocation-free.
 *
 * @internal
 * @example
 * ```ts
 * import { ListNode, List } from './list.js';
 * const q = new List<ListNode>();
 * const a = new ListNode();
 * const b = new ListNode();
 * q.push(a);
 * q.push(b);
 * q.remove(a); // true: a's caller gave up; b is now first
 * q.peek() === b; // true
 * ```
 */
export class List<N extends Linked> {
  protected head: N | undefined = undefined;
  protected tail: N | undefined = undefined;
  /** Number of nodes in the list. */
  size = 0;

  /** The first node, left in place. */
  peek(): N | undefined {
    return this.head;
  }

  /** The last node, left in place. */
  last(): N | undefined {
    return this.tail;
  }

  /** Appends `node` (which must not be in a list). */
  push(node: N): void {
    this.insertAfter(this.tail, node);
  }

  /** Inserts `node` right after `after`, or first when `after` is `undefined`. */
  insertAfter(after: N | undefined, node: N): void {
    const before = (after === undefined ? this.head : after.next) as N | undefined;
    node.queued = true;
    node.prev = after;
    node.next = before;
    if (after === undefined) this.head = node;
    else after.next = node;
    if (before === undefined) this.tail = node;
    else before.prev = node;
    this.size++;
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

  /** Empties the list and returns its nodes, in order, each unlinked. */
  drain(): N[] {
    const nodes: N[] = [];
    for (let n = this.head; n !== undefined; n = n.next as N | undefined) nodes.push(n);
    for (const n of nodes) {
      n.queued = false;
      n.prev = n.next = undefined;
    }
    this.head = this.tail = undefined;
    this.size = 0;
    return nodes;
  }

  private unlink(node: N): void {
    const { prev, next } = node;
    if (prev === undefined) this.head = next as N | undefined;
    else prev.next = next;
    if (next === undefined) this.tail = prev as N | undefined;
    else next.prev = prev;
    // Drop the links so a removed node never keeps its neighbours reachable.
    node.prev = undefined;
    node.next = undefined;
    node.queued = false;
    this.size--;
  }
}
