/**
 * Cancellation inside a call. A {@link Token} is breakwater's own, cheap stand-in for an
 * `AbortSignal`: policies subscribe to it through a plain list (no `EventTarget` listener, which
 * costs microseconds per call on Node), and a real `AbortSignal` is created only when user code
 * reads `ctx.signal`.
 *
 * Not exported from the package.
 *
 * @module
 */

/** Something that can be cancelled: `cancel()` stops listening. */
export interface Subscription {
  cancel(): void;
}

const NOOP: Subscription = { cancel() {} };

/**
 * The token (or attempt context) behind each `AbortSignal` breakwater hands to user code, so code
 * that only holds a signal can reach its attempt (see `markNonIdempotent`); and on a signal given
 * to `execute`, the calls running with it. Kept on the signal itself under keys shared by every
 * copy of the package in the realm: a property costs less to set, and far less to collect, than
 * a WeakMap entry per signal.
 */
const OWNER: unique symbol = Symbol.for('breakwater.signalOwner') as never;
const CALLERS: unique symbol = Symbol.for('breakwater.signalCallers') as never;
interface Keyed {
  [OWNER]?: object;
  [CALLERS]?: Set<object>;
}

/** The calls running with `signal` as the caller's signal; `undefined` when there are none. */
export function callersOf(signal: AbortSignal): ReadonlySet<object> | undefined {
  return (signal as Keyed)[CALLERS];
}

/**
 * For a caller's token: every call running with the same signal (this one included), since one
 * of them may run inside another's attempt.
 */
export function sharingSignal(tok: object): ReadonlySet<object> | undefined {
  const t = tok as { caller?: unknown; external?: AbortSignal };
  if (t.caller !== tok || t.external === undefined) return undefined;
  return (t.external as Keyed)[CALLERS];
}

/** Records that `owner` created `signal`. */
export function own(signal: AbortSignal, owner: object): void {
  (signal as Keyed)[OWNER] = owner;
}

/** The token or context that created `signal`; `undefined` for a signal from elsewhere. */
export function ownerOf(signal: AbortSignal): object | undefined {
  return (signal as Keyed)[OWNER];
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
   * A token for a caller's signal (not yet aborted). Every token of one signal shares a single
   * `abort` listener on it (see {@link SignalLink}): many concurrent calls with one signal add no
   * listener each (no `MaxListenersExceededWarning`, no per-call `addEventListener`).
   * {@link Token.release} leaves the link; the last one to leave removes the listener.
   */
  static fromSignal(signal: AbortSignal): Token {
    const t = new Token(undefined);
    (t as { caller: Token }).caller = t;
    t.external = signal;
    const keyed = signal as Keyed;
    const owner = keyed[OWNER];
    const callers = (keyed[CALLERS] ??= new Set());
    const link = links.get(signal) ?? SignalLink.open(signal);
    if (owner !== undefined) t.parent = owner;
    link.tokens.add(t);
    callers.add(t);
    t.unlink = () => {
      link.leave(t);
      callers.delete(t);
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

/**
 * The one `abort` listener breakwater keeps on a caller's signal, shared by every call that
 * passed it and still runs. Removed when the last of them settles, or when the signal aborts.
 */
class SignalLink {
  readonly tokens = new Set<Token>();
  private constructor(
    private readonly signal: AbortSignal,
    private readonly handler: () => void,
  ) {}

  /** Adds the listener; throws what a hostile `addEventListener` throws (nothing is left behind). */
  static open(signal: AbortSignal): SignalLink {
    const link: SignalLink = new SignalLink(signal, () => link.fire());
    signal.addEventListener('abort', link.handler, { once: true });
    links.set(signal, link);
    return link;
  }

  leave(t: Token): void {
    const tokens = this.tokens;
    if (!tokens.delete(t) || tokens.size !== 0 || links.get(this.signal) !== this) return;
    links.delete(this.signal);
    try {
      this.signal.removeEventListener('abort', this.handler);
    } catch {
      // A hostile signal: the call has settled already; its `once` listener finds no token.
    }
  }

  private fire(): void {
    if (links.get(this.signal) === this) links.delete(this.signal);
    let reason: unknown;
    try {
      reason = this.signal.reason;
    } catch (error) {
      reason = error;
    }
    const tokens = Array.from(this.tokens);
    this.tokens.clear();
    for (const t of tokens) t.abort(reason);
  }
}

const links = new WeakMap<AbortSignal, SignalLink>();

/** True when the caller behind `tok` has aborted: the outcome is the caller's abort. */
export function callerAborted(tok: Token | undefined): boolean {
  const c = tok?.caller;
  return c !== undefined && c.aborted;
}
