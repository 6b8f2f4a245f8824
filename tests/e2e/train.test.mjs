// The foundation's promise: the page names its backend and trains a real model in a worker,
// with WebGPU on and with WebGPU off (CPU fallback), the loss going down.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, DIST } from './harness.mjs';

let server;
before(async () => { server = await serve(DIST); });
after(async () => { await server.close(); });

// With WebGPU on, the adapter is Chromium's SwiftShader (a CPU emulation, ~2.5 s per step
// here). Should a step ever give a non-finite loss there, the page restarts its worker on the CPU
// and says why (until σ/tanh were clamped, exp overflow did so at step 55). So the test first
// proves that at least 10 steps ran on WebGPU with the loss going down, and accepts a stated
// fallback for the later ones.
const GPU_FALLBACK = /^Backend: CPU \(WebGPU unavailable: WebGPU failed: .+ at training step \d+\)/;

const lossesOf = async (page) => (await page.getByRole('list', { name: 'Training loss' }).getByRole('listitem').allTextContents())
  .map((t) => Number(t.split(':').pop()));

for (const mode of [
  { name: 'WebGPU on', webgpu: true, backend: /^Backend: WebGPU \(.+\)/ },
  { name: 'WebGPU off (CPU fallback)', webgpu: false, backend: /^Backend: CPU \(WebGPU unavailable: .+\)/ },
]) {
  test(`trains with ${mode.name}`, { timeout: 2_400_000 }, async () => {
    const browser = await launch({ webgpu: mode.webgpu });
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // A 20-step warm start (`?warm=20`): the loss from scratch, then Train, without the
      // 150-step warm start that takes SwiftShader six minutes or more.
      await page.goto(`${server.url}?warm=20`);
      await page.getByRole('heading', { name: 'Skipwise' }).waitFor();
      await page.locator('#backend').filter({ hasText: mode.backend }).waitFor({ timeout: 120_000 });
      // Ten warm-start steps on the backend the page named first.
      const named = await page.locator('#backend').textContent();
      await page.waitForFunction((named) => document.querySelectorAll('ol[aria-label="Training loss"] li').length >= 10
        || document.querySelector('#backend').textContent !== named, named, { timeout: 300_000 });
      const firstBackend = (await page.locator('#backend').textContent()).trim();
      assert.match(firstBackend, mode.backend, 'the backend changed before 10 steps had run on it');
      const first = (await lossesOf(page)).slice(0, 10);
      assert.ok(first.length === 10 && first.every(Number.isFinite) && first[9] < first[0], `${firstBackend}: ${first}`);
      console.log(`# ${mode.name}: ${firstBackend}; first 10 losses ${first[0]} → ${first[9]}`);
      const train = page.getByRole('button', { name: 'Train' });
      // The button is enabled once both models are warm.
      await page.waitForFunction(() => {
        const b = [...document.querySelectorAll('button')].find((x) => x.textContent.trim() === 'Train');
        return b && !b.disabled;
      }, null, { timeout: 1_500_000 });
      const backend = (await page.locator('#backend').textContent()).trim();
      assert.ok(mode.backend.test(backend) || (mode.webgpu && GPU_FALLBACK.test(backend)), `backend line: ${backend}`);
      await train.click();
      const items = page.getByRole('list', { name: 'Training loss' }).getByRole('listitem');
      // Wait for the whole run: the status says "Trained N steps" when the worker is done.
      await page.getByRole('status').filter({ hasText: /^Trained \d+ steps/ }).waitFor({ timeout: 600_000 });
      const texts = await items.allTextContents();
      const losses = await lossesOf(page);
      assert.ok(losses.length >= 10, `only ${losses.length} losses`);
      assert.ok(losses.every(Number.isFinite), `losses: ${texts}`);
      assert.ok(losses.at(-1) < losses[0], `loss did not go down: ${losses}`);
      console.log(`# ${mode.name}: ${backend}; losses ${losses[0]} → ${losses.at(-1)} over ${losses.length} steps`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}
