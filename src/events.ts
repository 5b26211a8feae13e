/**
 * The typed event emitter every policy owns, with listener isolation: a listener that throws
 * never changes a call's outcome.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';

/**
 * Payload of `listenerError`: a listener for `event` threw `error`.
 *
 * @example
 * ```ts
 * import { timeout, type ListenerErrorEvent } from 'breakwater';
 * timeout(10).events.on('listenerError', (e: ListenerErrorEvent) => console.error(e.event, e.error));
 * ```
 */
export interface ListenerErrorEvent {
  /** The name of the event whose listener threw. */
  readonly event: string;
  /** What the listener threw. */
  readonly error: unknown;
}

/**
 * Events every policy emits, whatever its kind.
 *
 * @example
 * ```ts
 * import { fallback } from 'breakwater';
 * fallback(0).events.on('dispose', ({ name }) => console.log(`${name} is gone`));
 * ```
 */
export interface CommonEvents {
  /** A listener of this emitter threw; the call it observed was not affected. */
  listenerError: ListenerErrorEvent;
  /** The policy was disposed; emitted once, just before its listeners are removed. */
  dispose: { readonly name: string };
}

/**
 * Maps an events interface (name → payload) to eventemitter3's listener signatures.
 *
 * @example
 * ```ts
 * import type { ListenerMap, TimeoutEvents } from 'breakwater';
 * type Listeners = ListenerMap<TimeoutEvents>; // { timeout: (payload: { timeoutMs: number }) => void }
 * ```
 */
export type ListenerMap<E> = { [K in keyof E & (string | symbol)]: (payload: E[K]) => void };

interface Listener {
  fn: (payload?: unknown) => void;
  context: unknown;
  once: boolean;
}
interface Internals {
  _events: Record<string, Listener | Listener[] | undefined>;
}

type Names<E> = EventEmitter.EventNames<ListenerMap<E & CommonEvents>>;
type Listen<E, T extends Names<E>> = EventEmitter.EventListener<ListenerMap<E & CommonEvents>, T>;

/**
 * Where a registry's bus takes an emitter's events (see registry/bus.ts): one slot per emitter,
 * set only while a registry listing the policy has bus listeners, so an unobserved registry
 * costs a listed policy one property read per `has()` and nothing else.
 *
 * @internal
 */
export interface EventSink {
  /** Does the bus want `event` now? (Never the local `listenerError` and `dispose`.) */
  wants(event: string): boolean;
  /** Takes one event, after the emitter's own listeners. Never throws. */
  send(event: string, payload: unknown): void;
}

const prefix = typeof EventEmitter.prefixed === 'string' ? EventEmitter.prefixed : '';

/**
 * An eventemitter3 emitter typed by an events interface (event name → payload type).
 *
 * `emit` isolates listeners: one that throws (or returns a promise that rejects) is caught, the
 * remaining listeners still run, and the error is emitted as `listenerError` (`{ event, error }`);
 * where nobody listens for that, it is reported once with `console.warn`.
 *
 * @example
 * ```ts
 * import { timeout } from 'breakwater';
 * const t = timeout(1000);
 * t.events.on('timeout', ({ timeoutMs }) => console.log(`gave up after ${timeoutMs} ms`));
 * t.events.on('listenerError', ({ event, error }) => console.error(event, error));
 * ```
 */
export class PolicyEmitter<E extends object> extends EventEmitter<ListenerMap<E & CommonEvents>> {
  /**
   * Bumped whenever a listener is added or removed, so a hot path can cache what {@link has}
   * says and re-check only when this changes.
   *
   * @internal
   */
  version = 0;

  /** @internal The bus's slot: see {@link EventSink}. */
  sink: EventSink | undefined = undefined;

  /** @internal Sets the bus's slot; cached answers of {@link has} are re-read. */
  forwardTo(sink: EventSink | undefined): void {
    this.sink = sink;
    this.version++;
  }

  override on<T extends Names<E>>(event: T, fn: Listen<E, T>, context?: unknown): this {
    this.version++;
    return super.on(event, fn, context);
  }

  /** Same as `on`. */

  override addListener<T extends Names<E>>(event: T, fn: Listen<E, T>, context?: unknown): this {
    this.version++;
    return super.addListener(event, fn, context);
  }

  override once<T extends Names<E>>(event: T, fn: Listen<E, T>, context?: unknown): this {
    this.version++;
    return super.once(event, fn, context);
  }

  override removeListener<T extends Names<E>>(event: T, fn?: Listen<E, T>, context?: unknown, once?: boolean): this {
    this.version++;
    return super.removeListener(event, fn, context, once);
  }

  /** Same as `removeListener`. */

  override off<T extends Names<E>>(event: T, fn?: Listen<E, T>, context?: unknown, once?: boolean): this {
    this.version++;
    return super.off(event, fn, context, once);
  }

  override removeAllListeners(event?: Names<E>): this {
    this.version++;
    return super.removeAllListeners(event);
  }

  /**
   * True when at least one listener is registered for `event`: lets a policy skip building a
   * payload (or starting a stopwatch) nobody will read.
   */
  has(event: keyof (E & CommonEvents) & string): boolean {
    if ((this as unknown as Internals)._events[prefix + event] !== undefined) return true;
    const sink = this.sink;
    return sink !== undefined && sink.wants(event);
  }

  override emit<K extends EventEmitter.EventNames<ListenerMap<E & CommonEvents>>>(
    event: K,
    ...args: EventEmitter.EventArgs<ListenerMap<E & CommonEvents>, K>
  ): boolean {
    const found = (this as unknown as Internals)._events[prefix + String(event)];
    const payload: unknown = (args as unknown[])[0];
    if (found === undefined) return this.sink !== undefined && this.forward(String(event), payload);
    if (!Array.isArray(found)) {
      this.call(String(event), found, payload);
    } else {
      // eventemitter3 replaces the array on removal, so iterating the one we hold is safe even
      // when a listener removes itself or others.
      for (let i = 0; i < found.length; i++) this.call(String(event), found[i] as Listener, payload);
    }
    if (this.sink !== undefined) this.forward(String(event), payload);
    return true;
  }

  /** Hands one event to the bus's slot, after the emitter's own listeners. */
  private forward(event: string, payload: unknown): boolean {
    const sink = this.sink;
    if (sink === undefined || !sink.wants(event)) return false;
    sink.send(event, payload);
    return true;
  }

  private call(event: string, listener: Listener, payload: unknown): void {
    if (listener.once) {
      (this as EventEmitter<string>).removeListener(event, listener.fn, undefined, true);
    }
    let result: unknown;
    try {
      result = listener.fn.call(listener.context, payload);
    } catch (error) {
      this.report(event, error);
      return;
    }
    // An async listener's rejection is its throw: reported the same way, never left unhandled
    // (under Node's defaults an unhandled rejection ends the process).
    if (result !== undefined && result !== null && (typeof result === 'object' || typeof result === 'function')) {
      this.watch(event, result);
    }
  }

  private watch(event: string, result: object): void {
    try {
      const then = (result as { then?: unknown }).then;
      if (typeof then !== 'function') return;
      (then as (ok: () => void, err: (e: unknown) => void) => unknown).call(
        result,
        () => {},
        (error: unknown) => this.report(event, error),
      );
    } catch (error) {
      this.report(event, error);
    }
  }

  private report(event: string, error: unknown): void {
    if (event !== 'listenerError' && this.has('listenerError')) {
      (this as unknown as PolicyEmitter<object>).emit('listenerError', { event, error });
      return;
    }
    console.warn(`breakwater: a listener for '${event}' threw`, error);
  }
}
