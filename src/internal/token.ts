/**
 * Cancellation inside a call. A {@link Token} is breakwater's own, cheap stand-in for an
 * `AbortSignal`: policies subscribe to it through a plain list (no `EventTarget` listener, which
 * costs microseconds per call on Node), and a real `AbortSignal` is created only when user code
 * reads `ctx.signal`.
 *
 * @internal
 * @module
 */

/** Something that can be cancelled: `cancel()` stops listening. */
export interface Subscription {
  cancel(): void;
}

const NOOP: Subscription = { cancel() {} };

/**
 * The token (or attempt context) behind each `AbortSignal` breakwater hands to user code, so code
 * that only holds a signal can reach its attempt (see `markNonIdempotent`). Weak, and shared by
 * every copy of the package in the realm.
 */
const OWNERS_KEY = Symbol.for('breakwater.signalOwners');
const OWNERS: WeakMap<AbortSignal, object> = ((globalThis as Record<symbol, unknown>)[OWNERS_KEY] ??=
  new WeakMap()) as WeakMap<AbortSignal, object>;

/**
 * The live caller tokens of each signal given to `execute` (see `markNonIdempotent`): marking
 * such a signal marks every call running with it, never one that has ended.
 */
const CALLERS_KEY = Symbol.for('breakwater.signalCallers');
const CALLERS: WeakMap<AbortSignal, Set<object>> = ((globalThis as Record<symbol, unknown>)[CALLERS_KEY] ??=
  new WeakMap()) as WeakMap<AbortSignal, Set<object>>;

/** The calls running with `signal`, a signal from elsewhere; `undefined` when there are none. */
export function callersOf(signal: AbortSignal): ReadonlySet<object> | undefined {
  return CALLERS.get(signal);
}

/**
 * For a caller's token: every call running with the same signal (this one included), since one
 * of them may run inside another's attempt.
 */
export function sharingSignal(tok: object): ReadonlySet<object> | undefined {
  const t = tok as { caller?: unknown; external?: AbortSignal };
  if (t.caller !== tok || t.external === undefined) return undefined;
  return CALLERS.get(t.external);
}

/** Records that `owner` created `signal`. */
export function own(signal: AbortSignal, owner: object): void {
  OWNERS.set(signal, owner);
}

/** The token or context that created `signal`; `undefined` for a signal from elsewhere. */
export function ownerOf(signal: AbortSignal): object | undefined {
  return OWNERS.get(signal);
}

/**
 * Aborts at most once, with a reason. A token is either a caller's (linked to the caller's
 * `AbortSignal`) or a child of another token (a timeout, a hedge attempt) that also aborts on
 * its own. `caller` points at the caller's token, so a policy can tell a caller's abort (never
 * handled, never counted) from a timeout or a losing hedge.
 */
export class Token {
  aborted = false;
  reason: unknown = undefined;
  /** The caller's token this one descends from, if any. */
  readonly caller: Token | undefined;
  /**
   * What this token was derived from, if anything: the parent token (see {@link Token.link}), or
   * for a caller's token, the breakwater token or context that created the caller's signal (a
   * policy executed from inside another one's attempt).
   */
  parent: object | undefined = undefined;
  private subs: Set<(reason: unknown) => void> | undefined = undefined;
  private ctrl: AbortController | undefined = undefined;
  private external: AbortSignal | undefined = undefined;
  private unlink: (() => void) | undefined = undefined;

  /** @param caller - the caller's token this one descends from. Subclasses call {@link Token.link}. */
  protected constructor(caller: Token | undefined) {
    this.caller = caller;
  }

  /**
   * A token for a caller's signal (not yet aborted). Costs one `addEventListener` on the signal;
   * {@link Token.release} removes it.
   */
  static fromSignal(signal: AbortSignal): Token {
    const t = new Token(undefined);
    (t as { caller: Token }).caller = t;
    t.external = signal;
    const owner = OWNERS.get(signal);
    const onAbort = (): void => t.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    if (owner !== undefined) t.parent = owner;
    let callers = CALLERS.get(signal);
    if (callers === undefined) CALLERS.set(signal, (callers = new Set()));
    callers.add(t);
    const live = callers;
    t.unlink = () => {
      signal.removeEventListener('abort', onAbort);
      live.delete(t);
    };
    return t;
  }

  /**
   * A token that aborts on its own or when `parent` aborts. With no parent it is cheap: no
   * subscription at all. {@link Token.release} detaches it from the parent.
   */
  static child(parent: Token | undefined): Token {
    const t = new Token(parent?.caller);
    t.link(parent);
    return t;
  }

  /**
   * Makes this token abort when `parent` does (at once if it already has). A policy whose
   * per-call state extends Token (one object per call, not two) calls this from its constructor.
   */
  protected link(parent: Token | undefined): void {
    if (parent === undefined) return;
    this.parent = parent;
    if (parent.aborted) {
      this.aborted = true;
      this.reason = parent.reason;
    } else {
      const sub = parent.onAbort((reason) => this.abort(reason));
      this.unlink = () => sub.cancel();
    }
  }

  /** The `AbortSignal` user code sees; created on first read. */
  get signal(): AbortSignal {
    if (this.external !== undefined && this.caller === this) return this.external;
    let ctrl = this.ctrl;
    if (ctrl === undefined) {
      ctrl = this.ctrl = new AbortController();
      own(ctrl.signal, this);
      if (this.aborted) ctrl.abort(this.reason);
    }
    return ctrl.signal;
  }

  /** Calls `fn` once when the token aborts (never, if already aborted: check `aborted` first). */
  onAbort(fn: (reason: unknown) => void): Subscription {
    if (this.aborted) return NOOP;
    const subs = (this.subs ??= new Set());
    subs.add(fn);
    return {
      cancel: () => {
        subs.delete(fn);
      },
    };
  }

  /** Aborts with `reason`: the signal (if created) and every subscriber, in order. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.release();
    this.ctrl?.abort(reason);
    const subs = this.subs;
    if (subs === undefined) return;
    this.subs = undefined;
    for (const fn of subs) {
      try {
        fn(reason);
      } catch (error) {
        // A subscriber is our own code; this is a bug guard so one cannot starve the others.
        console.warn('breakwater: abort handler threw', error);
      }
    }
  }

  /** Detaches from the parent token or the caller's signal. Idempotent. */
  release(): void {
    const unlink = this.unlink;
    if (unlink !== undefined) {
      this.unlink = undefined;
      unlink();
    }
  }
}

/** True when the caller behind `tok` has aborted: the outcome is the caller's abort. */
export function callerAborted(tok: Token | undefined): boolean {
  const c = tok?.caller;
  return c !== undefined && c.aborted;
}
