// The foundation's promise: the page names its backend and trains a real model in a worker,
// with WebGPU on and with WebGPU off (CPU fallback), the loss going down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, DIST } from './harness.mjs';

let server;
before(async () => { server = await serve(DIST); });
after(async () => { await server.close(); });

for (const mode of [
  { name: 'WebGPU on', webgpu: true, backend: /^Backend: WebGPU/ },
  { name: 'WebGPU off (CPU fallback)', webgpu: false, backend: /^Backend: CPU \(WebGPU unavailable: .+\)/ },
]) {
  test(`trains with ${mode.name}`, { timeout: 420_000 }, async () => {
    const browser = await launch({ webgpu: mode.webgpu });
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.getByRole('heading', { name: 'Skipwise' }).waitFor();
      const train = page.getByRole('button', { name: 'Train' });
      await train.waitFor();
      // The button is enabled once the worker has chosen its backend.
      await page.waitForFunction(() => {
        const b = [...document.querySelectorAll('button')].find((x) => x.textContent.trim() === 'Train');
        return b && !b.disabled;
      }, null, { timeout: 120_000 });
      const backend = (await page.locator('#backend').textContent()).trim();
      assert.match(backend, mode.backend, `backend line: ${backend}`);
      await train.click();
      const items = page.getByRole('list', { name: 'Training loss' }).getByRole('listitem');
      // Wait for the whole run: the status says "Trained N steps" when the worker is done.
      await page.getByRole('status').filter({ hasText: /^Trained \d+ steps/ }).waitFor({ timeout: 300_000 });
      const texts = await items.allTextContents();
      const losses = texts.map((t) => Number(t.split(':').pop()));
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
