// A small reference model of the circuit breaker contract (SPEC.md, issue #4), written for
// clarity rather than speed: windows keep plain lists, every decision is recomputed from them.
// model.test.ts runs random command sequences against it and the real breaker side by side.

export type Verdict = 'ok' | 'fail' | 'neither';
export type WindowConfig =
  | { type: 'consecutive'; failures: number }
  | { type: 'count'; size: number }
  | { type: 'time'; durationMs: number; buckets: number };

export interface ModelConfig {
  window: WindowConfig;
  minimumCalls: number;
  failureRateThreshold: number;
  slowCallDurationMs: number | undefined;
  slowCallRateThreshold: number;
  /** A number, or the list given to backoff.delays. */
  openDurationMs: number | number[];
  halfOpenCalls: number;
  halfOpenMaxDurationMs: number | undefined;
}

export type ModelState = 'closed' | 'open' | 'halfOpen' | 'isolated';

export interface ModelCall {
  gen: number;
  start: number;
}

export type Admission = { admitted: true; call: ModelCall } | { admitted: false; state: ModelState; retryAfterMs: number };

interface Outcome {
  at: number;
  failure: boolean;
  slow: boolean;
}

export class Model {
  now = 0;
  state: ModelState = 'closed';
  private gen = 0;
  private outcomes: Outcome[] = []; // oldest first
  private run = 0; // consecutive failures
  private openIndex = 0;
  private openUntil = 0;
  private permits = 0;
  private trials = 0;
  private successes = 0;
  private slowTrials = 0;
  private hungDue: number | undefined;
  private isolations = 0;
  private isolationEpoch = 0;

  constructor(private readonly c: ModelConfig) {}

  /** Trials of the current half-open period still running. */
  get runningTrials(): number {
    return this.state === 'halfOpen' ? this.trials : 0;
  }

  start(): Admission {
    if (this.state === 'open' && this.now >= this.openUntil) this.toHalfOpen();
    if (this.state === 'closed') return { admitted: true, call: { gen: this.gen, start: this.now } };
    if (this.state === 'halfOpen' && this.permits > 0) {
      this.permits--;
      if (this.trials === 0) this.hungDue = this.now + this.trialLimit();
      this.trials++;
      return { admitted: true, call: { gen: this.gen, start: this.now } };
    }
    const retryAfterMs = this.state === 'open' ? Math.ceil(this.openUntil - this.now) : this.state === 'isolated' ? Infinity : 0;
    return { admitted: false, state: this.state, retryAfterMs };
  }

  end(call: ModelCall, verdict: Verdict): void {
    const slow = this.c.slowCallDurationMs !== undefined && this.now - call.start >= this.c.slowCallDurationMs;
    if (call.gen !== this.gen) return; // stale: never decides
    if (verdict === 'neither') {
      if (this.state === 'halfOpen') {
        this.trials--;
        this.permits++;
        if (this.trials === 0) this.hungDue = undefined;
      }
      return;
    }
    const failure = verdict === 'fail';
    if (this.state === 'closed') {
      this.outcomes.push({ at: this.now, failure, slow });
      this.run = failure ? this.run + 1 : 0;
      if (this.windowSaysOpen()) this.toOpen();
    } else if (this.state === 'halfOpen') {
      this.trials--;
      if (failure) return this.toOpen();
      this.successes++;
      if (slow) this.slowTrials++;
      if (this.successes >= this.c.halfOpenCalls) {
        const slowRate = this.slowRateThreshold();
        if (this.slowTrials / this.c.halfOpenCalls >= slowRate) this.toOpen();
        else this.toClosed();
        return;
      }
      if (this.trials === 0) this.hungDue = undefined;
    }
  }

  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const due = this.state === 'open' ? this.openUntil : this.state === 'halfOpen' ? this.hungDue : undefined;
      if (due === undefined || due > target) break;
      this.now = due;
      if (this.state === 'open') this.toHalfOpen();
      else {
        this.hungDue = undefined;
        if (this.trials > 0) this.toOpen();
      }
    }
    this.now = target;
  }

  isolate(): { epoch: number; released: boolean } {
    this.isolations++;
    if (this.state !== 'isolated') this.move('isolated');
    return { epoch: this.isolationEpoch, released: false };
  }

  release(handle: { epoch: number; released: boolean }): void {
    if (handle.released) return;
    handle.released = true;
    if (handle.epoch === this.isolationEpoch && --this.isolations === 0) this.toClosed();
  }

  reset(): void {
    this.isolations = 0;
    this.isolationEpoch++;
    this.toClosed();
  }

  private slowRateThreshold(): number {
    if (this.c.slowCallDurationMs === undefined || this.c.window.type === 'consecutive') return Infinity;
    return this.c.slowCallRateThreshold;
  }

  private windowSaysOpen(): boolean {
    const w = this.c.window;
    if (w.type === 'consecutive') return this.run >= w.failures;
    let sample: Outcome[];
    let minimum = this.c.minimumCalls;
    if (w.type === 'count') {
      sample = this.outcomes.slice(-w.size);
      minimum = Math.min(minimum, w.size);
    } else {
      const bucketMs = w.durationMs / w.buckets;
      const newest = Math.floor(this.now / bucketMs);
      sample = this.outcomes.filter((o) => Math.floor(o.at / bucketMs) > newest - w.buckets);
    }
    const calls = sample.length;
    if (calls < minimum) return false;
    const failures = sample.filter((o) => o.failure).length;
    const slows = sample.filter((o) => o.slow).length;
    return failures / calls >= this.c.failureRateThreshold || slows / calls >= this.slowRateThreshold();
  }

  private move(to: ModelState): void {
    this.state = to;
    this.gen++;
    this.hungDue = undefined;
  }

  /** halfOpenMaxDurationMs, by default the first open duration (30 s when that is 0). */
  private trialLimit(): number {
    if (this.c.halfOpenMaxDurationMs !== undefined) return this.c.halfOpenMaxDurationMs;
    const d = this.c.openDurationMs;
    const first = typeof d === 'number' ? d : (d[0] as number);
    return first > 0 ? first : 30_000;
  }

  private toOpen(): void {
    const d = this.c.openDurationMs;
    const ms = typeof d === 'number' ? d : (d[Math.min(this.openIndex, d.length - 1)] as number);
    this.openIndex++;
    this.move('open');
    this.openUntil = this.now + ms;
  }

  private toHalfOpen(): void {
    this.move('halfOpen');
    this.permits = this.c.halfOpenCalls;
    this.trials = this.successes = this.slowTrials = 0;
  }

  private toClosed(): void {
    this.move('closed');
    this.outcomes = [];
    this.run = 0;
    this.openIndex = 0;
  }
}
