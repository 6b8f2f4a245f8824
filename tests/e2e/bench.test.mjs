// Figures, not thresholds: the page's `?bench=codec` measures how long one recommendations answer
// takes to cross postMessage as JSON text (what the page uses) and through serde-wasm-bindgen
// (plain, and with the map's points as a Float32Array). This test prints them and asserts only
// that each was measured and that every variant carried the message unchanged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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
    for (const name of ['JSON text', 'serde-wasm-bindgen', 'serde-wasm-bindgen \\+ Float32Array points']) {
      assert.match(text, new RegExp(`^${name}: mean \\d+\\.\\d+ ms, p50 \\d+\\.\\d+ ms, p95 \\d+\\.\\d+ ms$`, 'm'));
    }
  } finally {
    await browser.close();
  }
});

// The first visit's waits as the page prints them ("Under the hood"): first paint and first
// recommendations, on a first visit (warm start trained) and on a reload (weights from the cache).
test('the first visit and a reload are timed in the page', { timeout: 600_000 }, async () => {
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
    await page.locator('#warm-source').filter({ hasText: /cached in this browser/ }).waitFor({ timeout: 60_000 });
    await page.reload();
    const reload = await timing();
    console.log(`# first visit: ${first}\n# reload: ${reload}`);
    const pattern = /^This page load: first paint after \d+\.\d s, first recommendations after \d+\.\d s \((.+)\)\.$/;
    assert.match(first, pattern);
    assert.match(reload, pattern);
    assert.match(reload, /loaded from this browser's cache/);
  } finally {
    await browser.close();
  }
});
