// breakwater/fetch: what resilientFetch's standard pipeline adds to a real HTTP round trip, side
// by side with a raw fetch and with ky (default retry) doing the same requests (issue #13).
//
/* global fetch, AbortController -- Node 20 globals */
// The server runs in a child process (so its work does not share the client's event loop) and
// keeps connections alive; every case reads the whole body, as real code does.
import { spawn } from 'node:child_process';
import ky from 'ky';
import { resilientFetch } from '../dist/esm/fetch/index.js';
import { sequential } from './harness.mjs';

const serverSource = `
const http = require('node:http');
const body = JSON.stringify({ id: 1, name: 'breakwater', tags: ['a', 'b', 'c'] });
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

const child = spawn(process.execPath, ['-e', serverSource], { stdio: ['pipe', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
  child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
});
const url = `http://127.0.0.1:${port}/item`;

const rf = resilientFetch({ name: 'bench' });
const kyClient = ky.create({}); // ky's defaults: retry 2 (GET among its methods), 10 s timeout

export const groups = [
  {
    title: 'fetch: one keep-alive GET round trip, body read',
    // Small batches, many rounds: on a shared machine, load changes within seconds, and fine
    // interleaving spreads it over every case alike.
    batch: 50,
    rounds: 151,
    cases: [
      { name: 'raw fetch', run: sequential(async () => (await fetch(url)).text()) },
      // What any per-attempt cancellation costs Node's fetch: a signal of its own per request.
      { name: 'raw fetch + AbortController', run: sequential(async () => (await fetch(url, { signal: new AbortController().signal })).text()) },
      { name: 'resilientFetch (standard pipeline)', run: sequential(async () => (await rf(url)).text()) },
      { name: 'ky (default retry)', run: sequential(() => kyClient.get(url).text()) },
    ],
    checks: [
      { faster: 'resilientFetch (standard pipeline)', slower: 'raw fetch', atMost: 1.03, label: 'resilientFetch within 3% of a raw fetch round trip (issue #13)' },
      { faster: 'resilientFetch (standard pipeline)', slower: 'ky (default retry)', atLeast: 1, label: 'resilientFetch faster than ky with its default retry (issue #13)' },
    ],
    teardown() {
      rf.dispose();
      child.stdin.end();
    },
  },
];
