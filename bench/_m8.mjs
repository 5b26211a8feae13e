import { timeout, pipeline, circuitBreaker, fallback } from '../dist/esm/index.js';
async function ta(name, n, f){ const s=process.hrtime.bigint(); for(let i=0;i<n;i++) await f(); const e=process.hrtime.bigint(); console.log(name.padEnd(34), (Number(e-s)/n).toFixed(0), 'ns'); }
const work = async()=>1;
const fb = fallback(0), p1 = pipeline(fallback(0)), p2 = pipeline(fallback(0), fallback(0)), p1m = pipeline(fallback(0), {metrics:false});
const cb = circuitBreaker(), t = timeout(1000);
const pc = pipeline(circuitBreaker(), timeout(1000));
const pcm = pipeline(circuitBreaker(), timeout(1000), {metrics: false});
for (let k=0;k<3;k++){
await ta('fallback', 2e5, () => fb.execute(work));
await ta('pipeline(fb)', 2e5, () => p1.execute(work));
await ta('pipeline(fb) pipe-metrics off', 2e5, () => p1m.execute(work));
await ta('pipeline(fb,fb)', 2e5, () => p2.execute(work));
await ta('cb', 2e5, () => cb.execute(work));
await ta('timeout', 2e5, () => t.execute(work));
await ta('pipeline(cb,t)', 2e5, () => pc.execute(work));
await ta('pipeline(cb,t) pipe-metrics off', 2e5, () => pcm.execute(work));
}
