// A small side-by-side benchmark harness for sub-microsecond operations.
//
// Why not one sample per call (tinybench's default)? At 50–500 ns per operation, timer
// resolution and per-sample overhead swamp the figure. Each case here runs a batch of `n`
// operations per sample; contenders are interleaved round by round (so machine noise hits all
// of them alike) and the median of the per-round figures is reported. No forced GC between
// batches: on Node 20 a forced full GC made the next batches 3-5x slower and far noisier. On a
// shared machine, read the ratios, not the absolute numbers.

const now = () => process.hrtime.bigint();

/**
 * @typedef {{ name: string, run: (n: number) => Promise<void> | void, setup?: () => unknown }} Case
 * @typedef {{ faster: string, slower: string, atLeast?: number, atMost?: number, addsAtMostNs?: number, label: string }} Check
 * @typedef {{ title: string, batch?: number, rounds?: number, cases: Case[], checks?: Check[] }} Group
 */

/** @param {Group} group */
export async function runGroup(group) {
  const batch = group.batch ?? 20000;
  const rounds = group.rounds ?? 15;
  const samples = new Map(group.cases.map((c) => [c.name, []]));
  // Warm up every case (JIT) before measuring.
  for (const c of group.cases) {
    await c.run(Math.min(batch, 5000));
    await c.run(Math.min(batch, 5000));
  }
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round so no case always runs right after GC-heavy another.
    const order = group.cases.map((_, i) => group.cases[(i + r) % group.cases.length]);
    for (const c of order) {
      const t0 = now();
      await c.run(batch);
      const t1 = now();
      samples.get(c.name).push(Number(t1 - t0) / batch);
    }
  }
  const results = {};
  for (const [name, list] of samples) {
    const sorted = list.slice().sort((a, b) => a - b);
    results[name] = {
      median: sorted[Math.floor(sorted.length / 2)],
      min: sorted[0],
      max: sorted[sorted.length - 1],
    };
  }
  return results;
}

const fmt = (ns) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);

/** Prints one group's table and its checks; returns the check lines for the summary. */
export function report(group, results) {
  console.log(`\n## ${group.title}`);
  const base = results[group.cases[0].name].median;
  const width = Math.max(...group.cases.map((c) => c.name.length));
  for (const c of group.cases) {
    const r = results[c.name];
    console.log(
      `  ${c.name.padEnd(width)}  ${fmt(r.median).padStart(10)}/op  (min ${fmt(r.min)}, max ${fmt(r.max)})  x${(r.median / base).toFixed(2)}`,
    );
  }
  const lines = [];
  for (const check of group.checks ?? []) {
    if (check.overhead !== undefined) {
      // Overhead ratio: what the policy adds per call in one setting over what it adds in another,
      // each measured against the same harness running the bare work (`[case, baseline]` pairs).
      const [a, aBase] = check.overhead;
      const [b, bBase] = check.versus;
      const added = results[a].median - results[aBase].median;
      const reference = results[b].median - results[bBase].median;
      const ratio = added / reference;
      const ok = ratio <= check.atMost;
      const verdict = check.atMost === Infinity ? 'INFO' : ok ? 'MET ' : 'MISS';
      const want = check.atMost === Infinity ? '' : `; want <= ${check.atMost}x`;
      lines.push(`${verdict}  ${check.label}: ${ratio.toFixed(2)}x (${fmt(added)} vs ${fmt(reference)} added per call${want})`);
      continue;
    }
    const fast = results[check.faster].median;
    const slow = results[check.slower].median;
    if (check.addsAtMostNs !== undefined) {
      // `faster` may add at most this many ns per call over `slower` (the budget as a ratio).
      const within = fast / slow;
      const bound = (slow + check.addsAtMostNs) / slow;
      const verdict = within <= bound ? 'MET ' : 'MISS';
      lines.push(`${verdict}  ${check.label}: ${within.toFixed(2)}x (adds ${fmt(fast - slow)}; want <= ${bound.toFixed(2)}x)`);
      continue;
    }
    const ratio = slow / fast;
    let ok = true;
    let want = '';
    if (check.atLeast !== undefined) {
      ok = ratio >= check.atLeast;
      want = `>= ${check.atLeast}x`;
    }
    if (check.atMost !== undefined) {
      // "within" checks: faster/slower (how much slower `faster` may be than `slower`).
      const within = fast / slow;
      ok = within <= check.atMost;
      want = `<= ${check.atMost}x`;
      lines.push(`${ok ? 'MET ' : 'MISS'}  ${check.label}: ${within.toFixed(2)}x (want ${want})`);
      continue;
    }
    lines.push(`${ok ? 'MET ' : 'MISS'}  ${check.label}: ${ratio.toFixed(2)}x (want ${want})`);
  }
  for (const l of lines) console.log(`  ${l}`);
  return lines;
}

/** Runs a sequential batch: `n` awaited calls of `op`. */
export function sequential(op) {
  return async (n) => {
    for (let i = 0; i < n; i++) await op();
  };
}

/** Runs `n` calls with `inFlight` of them started before any is awaited. */
export function concurrent(op, inFlight) {
  return async (n) => {
    const pending = new Array(inFlight);
    for (let done = 0; done < n; done += inFlight) {
      for (let i = 0; i < inFlight; i++) pending[i] = op();
      await Promise.all(pending);
    }
  };
}
