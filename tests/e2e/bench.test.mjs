// Figures, not thresholds: the page's `?bench=codec` measures how long one recommendations answer
// takes to cross postMessage as JSON text, through serde-wasm-bindgen, and as JSON text with the
// map's points as a Float32Array (what the page and worker use). This test prints them and asserts only
// that each was measured and that every variant carried the message unchanged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { serve, launch, DIST } from './harness.mjs';

let server;
before(async () => { server = await serve(DIST); });
after(async () => { await server.close(); });

test('the message codecs are measured side by side', { timeout: 300_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}?warm=1&bench=codec`);
    const out = page.locator('#codec-bench');
    await out.filter({ hasText: /done$|^failed/ }).waitFor({ timeout: 240_000 });
    const text = await out.textContent();
    console.log(text.split('\n').map((l) => `# ${l}`).join('\n'));
    assert.doesNotMatch(text, /^failed/);
    for (const name of ['JSON text', 'serde-wasm-bindgen', 'JSON text \\+ Float32Array points']) {
      assert.match(text, new RegExp(`^${name}: mean \\d+\\.\\d+ ms, p50 \\d+\\.\\d+ ms, p95 \\d+\\.\\d+ ms$`, 'm'));
    }
  } finally {
    await browser.close();
  }
});

// The page's own figures ("Under the hood"), as a visitor meets them on the CPU path: first paint
// and first recommendations on a first visit (the shipped warm start), click-to-new-list p50/p95
// over 50 clicked plays (each ends when the list computed after that play's update is shown,
// matched by request id), and a reload with that 50-play history (cached weights, the history
// relearnt). Figures, not thresholds: the test asserts only that each was measured.
test('a first visit, 50 clicked plays and a reload with their history are timed in the page', { timeout: 600_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const page = await browser.newPage();
    const timing = async () => {
      const line = page.locator('#first-visit');
      await line.filter({ hasText: /first recommendations after/ }).waitFor({ timeout: 500_000 });
      return (await line.textContent()).trim();
    };
    await page.goto(server.url);
    const first = await timing();
    const skip = page.getByRole('button', { name: 'Skip', exact: true });
    await page.getByRole('group', { name: 'Speed' }).getByRole('button', { name: '×60', exact: true }).click();
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    const PLAYS = 50;
    for (let n = 1; n <= PLAYS; n++) {
      // Two skips early (FPs), then a play past the threshold.
      const secs = n % 3 === 0 ? 15 : 1;
      await page.waitForFunction((secs) => {
        const [m, s] = document.querySelector('#position').textContent.split('/')[0].trim().split(':').map(Number);
        return m * 60 + s >= secs;
      }, secs, { timeout: 60_000 });
      await skip.click();
      await page.locator('#latency').filter({ hasText: new RegExp(`^Learnt from ${n} plays`) }).waitFor({ timeout: 120_000 });
    }
    const clicks = (await page.locator('#click-latency').textContent()).trim();
    await page.reload();
    const reload = await timing();
    console.log(`# first visit: ${first}\n# ${clicks}\n# reload with ${PLAYS} plays: ${reload}`);
    const pattern = /^This page load: first paint after \d+\.\d s, first recommendations after \d+\.\d s \((.+)\)\.$/;
    assert.match(first, pattern);
    assert.match(first, /shipped with the page/);
    assert.match(clicks, new RegExp(`^Click to new list over this page load's ${PLAYS} plays: p50 \\d+ ms, p95 \\d+ ms\\.$`));
    assert.match(reload, pattern);
  } finally {
    await browser.close();
  }
});

// What a first visit downloads: the player's page wasm and its worker, never the Lab's page and
// worker, which load when the Lab tab first opens (its worker with the first Run). Prints each
// wasm's size as served.
test('a first visit loads the player and its worker only; the Lab loads with its tab', { timeout: 300_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const page = await browser.newPage();
    const wasm = new Map();
    // Names from the requests, sizes from the files served (a 27 MB body is not kept by DevTools).
    page.on('request', (r) => {
      const name = new URL(r.url()).pathname.split('/').pop();
      if (name.endsWith('.wasm')) wasm.set(name.replace(/-[0-9a-f]{16}_bg/, '_bg'), fs.statSync(path.join(DIST, name)).size);
    });
    await page.goto(server.url);
    await page.getByRole('list', { name: 'Recommendations' }).getByRole('listitem').first().waitFor({ timeout: 120_000 });
    const first = new Map(wasm);
    await page.getByRole('tab', { name: 'Lab' }).click();
    await page.getByLabel('Loaded dataset', { exact: true }).waitFor({ timeout: 120_000 });
    await page.getByRole('button', { name: 'Run', exact: true }).waitFor({ timeout: 60_000 });
    const kib = (m) => [...m].map(([n, b]) => `${n} ${(b / 1024).toFixed(0)} KiB`).join(', ');
    console.log(`# first visit: ${kib(first)}\n# after opening the Lab: ${kib(wasm)}`);
    assert.deepEqual([...first.keys()].sort(), ['skipwise-page_bg.wasm', 'skipwise-worker_bg.wasm']);
    assert.ok(wasm.has('skipwise-lab-page_bg.wasm'), 'the Lab tab loads its page');
  } finally {
    await browser.close();
  }
});
