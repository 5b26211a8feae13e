/**
 * Non-idempotent attempts: a per-call fact that every repeating policy (retry, hedge) honours.
 *
 * Work that must not run twice (a POST without an `Idempotency-Key`, a payment, an email) marks
 * the attempt it runs in with {@link markNonIdempotent}. The mark travels two ways, so it reaches
 * every repeating policy around the work, however deeply nested and whoever built the pipeline:
 *
 * - up the attempt's tokens: an attempt's signal belongs to a token (or a context) of the policy
 *   that owns the attempt, and every token knows the token it was derived from, so a hedge sees
 *   the mark while the attempt is still running and starts no second one;
 * - on the outcome: a repeating policy that stops because of a mark marks the failure it passes
 *   on (and a timeout marks the `TimeoutError` of a marked attempt), so policies further out stop
 *   too, even where they share no token with the attempt. `cause` chains are followed, so user
 *   code that wraps a marked error keeps the mark.
 *
 * Marks live in weak sets shared by every copy of the package in the realm (ESM and CommonJS
 * builds side by side), so they cost no memory once the call is gone.
 *
 * @module
 */
import type { AttemptContext } from './contract.js';
import { callersOf, ownerOf, sharingSignal, type Token } from './internal/token.js';

const MARKS_KEY = Symbol.for('breakwater.nonIdempotent');
const MARKS: WeakSet<object> = ((globalThis as Record<symbol, unknown>)[MARKS_KEY] ??= new WeakSet()) as WeakSet<object>;

/** How far a `cause` chain is followed: a guard against cycles, far more than real chains. */
const MAX_CAUSES = 8;

/** Something with a parent pointer: a breakwater token (any copy of the package). */
interface Linked {
  readonly parent?: Linked | undefined;
  readonly tok?: Linked | undefined;
}

/** Marks `node` and everything it was derived from: parent tokens, and the contexts of attempts. */
function markChain(node: Linked | undefined): void {
  let n = node;
  for (; n !== undefined && !MARKS.has(n); n = n.parent ?? n.tok) {
    MARKS.add(n);
    // A caller's token: a call executed from inside another call's attempt with the same signal
    // (`{ signal: ctx.signal }`, where that is the caller's signal) is linked to it by nothing
    // else, so every call running with the signal is marked: at worst a concurrent call that
    // shares the signal is not repeated either.
    const sharing = sharingSignal(n);
    if (sharing !== undefined) for (const c of sharing) if (c !== n) markChain(c);
  }
}

/**
 * Marks the attempt behind `target` as one that must not be repeated: no retry or hedge around
 * it, in any pipeline, starts another attempt after this one (and a hedge starts none beside it
 * while it runs). Call it before the work is sent, with the attempt's `ctx` or `ctx.signal` (or
 * a signal derived from it by a breakwater policy).
 *
 * **When to use:** inside a policy-guarded function that performs an operation that is not safe
 * to repeat (a charge, a non-idempotent POST, a message send). `breakwater/fetch` calls it for
 * POST, PATCH and unknown methods that carry no `Idempotency-Key`.
 *
 * **Details:** a signal of your own (an `AbortController`'s) marks every breakwater call
 * running with it as the caller's signal at that moment, and nothing when there is none; the failure that the marked attempt ends with is
 * still seen as marked by the policies around it, provided it reaches them as it is (or as the
 * `cause` of the error you throw instead). Failures that happen before the work starts (an open
 * breaker, a full bulkhead) are retried as usual when nothing was marked yet.
 *
 * @example
 * ```ts
 * import { retry, markNonIdempotent } from 'breakwater';
 * const payments = retry({ maxAttempts: 3 });
 * await payments.execute(async (ctx) => {
 *   markNonIdempotent(ctx); // a charge is sent at most once, whatever fails after this point
 *   return fetch('https://pay.example.com/charges', { method: 'POST', body: '{"cents":100}', signal: ctx.signal });
 * });
 * ```
 */
export function markNonIdempotent(target: AbortSignal | AttemptContext): void {
  if (target === null || typeof target !== 'object') {
    throw new TypeError(`markNonIdempotent: expected an AbortSignal or an attempt context, got ${target === null ? 'null' : typeof target}`);
  }
  // An attempt context: the context itself, then its token's chain.
  if ('attempt' in target) return markChain(target as Linked);
  // The policy that created the signal, and every call executed with it as the caller's signal
  // (whose attempts hand out that same signal as `ctx.signal`).
  const owner = ownerOf(target);
  if (owner !== undefined) markChain(owner);
  const callers = callersOf(target);
  if (callers !== undefined) for (const c of callers) markChain(c);
}

/**
 * Marks a failure (or a failing value) that an attempt marked non-idempotent ends with, so the
 * policies it reaches do not repeat the call. Primitives cannot be marked.
 *
 * @internal
 */
export function markOutcome(outcome: unknown): void {
  if (typeof outcome === 'object' && outcome !== null) MARKS.add(outcome);
  else if (typeof outcome === 'function') MARKS.add(outcome);
}

/**
 * True when `outcome`, or an error in its `cause` chain, ended a non-idempotent attempt.
 *
 * @internal
 */
export function isNonIdempotentOutcome(outcome: unknown): boolean {
  let o = outcome;
  for (let i = 0; i < MAX_CAUSES; i++) {
    if (typeof o !== 'object' || o === null) return false;
    if (MARKS.has(o)) return true;
    o = (o as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * True when the attempt run with `ctx` (or its token) was marked non-idempotent.
 *
 * @internal
 */
export function attemptMarked(ctx: AttemptContext): boolean {
  if (MARKS.has(ctx)) return true;
  const tok = (ctx as Linked).tok;
  return tok !== undefined && MARKS.has(tok);
}

/** True when `tok` (an attempt's token) was marked non-idempotent. @internal */
export function tokenMarked(tok: Token | undefined): boolean {
  return tok !== undefined && MARKS.has(tok);
}

/**
 * The decision of a repeating policy after an attempt failed: true when another attempt may
 * start. When it may not, the outcome is marked so that the policies outside stop as well.
 *
 * @internal
 */
export function mayRepeat(ctx: AttemptContext, outcome: unknown): boolean {
  if (isNonIdempotentOutcome(outcome)) return false;
  if (!attemptMarked(ctx)) return true;
  markOutcome(outcome);
  return false;
}
