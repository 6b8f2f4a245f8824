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
