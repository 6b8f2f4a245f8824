// The player's promise: a visitor who plays one genre and skips another (within 3 s) sees the
// skipped genre fade from "Recommendations" (FP-AdaMetric) but not from "Vanilla
// recommendations"; a reload keeps the history; a corrupted import changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, DIST, collectErrors } from './harness.mjs';

let server;
before(async () => { server = await serve(DIST); });
after(async () => { await server.close(); });

const EVENTS = 15;

async function streamText(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** Genres of a recommendation list, top first. */
async function genres(page, name) {
  return page.getByRole('list', { name, exact: true }).locator('li').evaluateAll((lis) => lis.map((li) => li.dataset.genre));
}
const share = (list, genre) => list.filter((g) => g === genre).length / Math.max(list.length, 1);

// With WebGPU on, Chromium's adapter is SwiftShader, a CPU emulation: the 150-step warm start
// takes 6–15 minutes there (seconds on a real GPU), and each play's two online steps per model
// several seconds. The waits are sized for that, not for a GPU.
async function waitForModels(page) {
  await page.waitForFunction(() => {
    const list = document.querySelector('ol[aria-label="Recommendations"]');
    const warm = document.querySelector('#warmup');
    return list && list.children.length === 10 && !warm;
  }, null, { timeout: 1_500_000 });
}

async function learnt(page, n) {
  await page.locator('#latency').filter({ hasText: new RegExp(`^Learnt from ${n} plays`) }).waitFor({ timeout: 400_000 });
}

/** Seconds played of the current item, from "m:ss / m:ss". */
async function position(page) {
  const text = await page.locator('#position').textContent();
  const [m, s] = text.split('/')[0].trim().split(':').map(Number);
  return m * 60 + s;
}

// The CPU run goes first and leaves its exported warm-start weights here: the WebGPU run imports
// them instead of repeating the warm start on SwiftShader, where 60 steps took ~6 of its ~9.5 min.
// Warm-start training on WebGPU stays covered by train.test.mjs; this run covers loading weights
// onto the GPU and every online step of the scenario there. Without the CPU's file (that test
// failed), it falls back to a 60-step warm start of its own.
let cpuWarm = null;

/** Replaces the page's warm-start weights with `warm` through Import (no plays). */
async function importWeights(page, warm) {
  const file = { format: 'skipwise-history', version: 1, catalog: 'music', skip_secs: 10, plays: [], warm };
  await page.getByLabel('Import file').setInputFiles({ name: 'weights.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) });
  await page.locator('#play-message').filter({ hasText: "Imported 0 plays and the models' weights." }).waitFor({ timeout: 10_000 });
  await page.locator('#warm-source').filter({ hasText: /loaded from this browser's cache/ }).waitFor({ timeout: 600_000 });
}

for (const mode of [{ name: 'WebGPU off (CPU fallback)', webgpu: false }, { name: 'WebGPU on', webgpu: true }]) {
  test(`skips teach FP-AdaMetric, not Vanilla, with ${mode.name}`, { timeout: 2_700_000 }, async () => {
    const browser = await launch({ webgpu: mode.webgpu });
    try {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // On SwiftShader the full 150-step warm start alone takes 6–15 min: the WebGPU run imports
      // the CPU run's weights after a 1-step warm start (or, failing that, trains 60 steps).
      const imported = mode.webgpu && cpuWarm !== null;
      await page.goto(mode.webgpu ? `${server.url}?warm=${imported ? 1 : 60}` : server.url);
      await waitForModels(page);
      if (imported) {
        await importWeights(page, cpuWarm);
        await waitForModels(page);
      }
      const initial = await genres(page, 'Recommendations');
      // The skipped genre: the one the cold-start list offers most (it is balanced, one or two
      // of each genre: then the top item's); the played one: another.
      const counts = {};
      for (const g of initial) counts[g] = (counts[g] || 0) + 1;
      const skipped = Object.entries(counts).sort((a, b) => b[1] - a[1])[0][0];
      const options = await page.getByLabel('Genre', { exact: true }).locator('option').allTextContents();
      const liked = options.find((g) => g !== skipped);
      const speed = (s) => page.getByRole('group', { name: 'Speed' }).getByRole('button', { name: s, exact: true }).click();
      const pick = async (genre, index) => {
        await page.getByLabel('Genre', { exact: true }).selectOption({ label: genre });
        await page.getByRole('list', { name: 'Catalog' }).getByRole('button').nth(index).click();
      };
      // Each new pick ends the previous play: liked items run ≥ 15 s (×60), skipped ones < 3 s (×1).
      await speed('×1');
      await pick(liked, 0);
      for (let n = 1; n <= EVENTS; n++) {
        const i = Math.floor(n / 2);
        if (n % 2 === 1) {
          await speed('×60');
          await page.waitForFunction(() => {
            const t = document.querySelector('#position').textContent.split('/')[0].trim().split(':').map(Number);
            return t[0] * 60 + t[1] >= 15;
          }, null, { timeout: 30_000 });
          await speed('×1');
          await pick(skipped, i);
          // Paused while the models learn the liked play (seconds on SwiftShader), so the skip
          // still comes within 3 s of the skipped item's start.
          await page.getByRole('button', { name: 'Pause', exact: true }).click();
          await learnt(page, n);
          await page.getByRole('button', { name: 'Play', exact: true }).click();
          await page.waitForTimeout(300);
        } else {
          assert.ok((await position(page)) < 3, 'a skip must come within 3 s');
          await pick(liked, i);
        }
        await learnt(page, n);
        const message = await page.locator('#play-message').textContent();
        assert.match(message, n % 2 === 1 ? /^Positive: played \d+ s/ : /^FP: skipped after \d+ s/);
      }
      const latency = await page.locator('#latency').textContent();
      assert.match(latency, /click to new list: \d+ ms/);
      const ada = await genres(page, 'Recommendations');
      const vanilla = await genres(page, 'Vanilla recommendations');
      const backend = (await page.locator('#backend').textContent()).trim();
      // WebGPU on: the run must have been on WebGPU, or say exactly why it left it; never a
      // silent CPU fallback that would make this run a copy of the CPU one.
      if (mode.webgpu) assert.match(backend, /^Backend: (WebGPU \(.+\)|CPU \(WebGPU unavailable: WebGPU failed: .+\))$/, backend);
      console.log(`# ${mode.name}: ${backend}; skipped genre ${skipped}: share before ${share(initial, skipped)}, ` +
        `FP-AdaMetric ${share(ada, skipped)}, Vanilla ${share(vanilla, skipped)}; ${latency}` +
        (imported ? '; warm-start weights imported from the CPU run' : ''));
      assert.ok(share(ada, skipped) < share(vanilla, skipped), `FP-AdaMetric ${ada} vs Vanilla ${vanilla}`);
      // Vanilla learnt the skips as likes and offers more of the genre than the cold start did;
      // FP-AdaMetric never more.
      assert.ok(share(ada, skipped) <= share(initial, skipped), `FP-AdaMetric ${ada} vs before ${initial}`);
      assert.ok(share(vanilla, skipped) > share(initial, skipped), `Vanilla ${vanilla} vs before ${initial}`);
      // The count a visitor reads at a glance agrees with the lists it counts.
      const glance = (await page.locator('#skipped-genre-counts').textContent()).match(/^From genres you skipped: FP-AdaMetric (\d+) · Vanilla (\d+)$/);
      assert.ok(glance, 'the per-list counts are shown');
      assert.deepEqual([Number(glance[1]), Number(glance[2])], [ada.filter((g) => g === skipped).length, vanilla.filter((g) => g === skipped).length]);
      const timeline = page.getByRole('list', { name: 'Session timeline' }).getByRole('listitem');
      assert.equal(await timeline.count(), EVENTS);
      assert.equal(await page.getByRole('list', { name: 'Degree of dislike' }).getByRole('listitem').count() > 0, true);

      assert.deepEqual(errors, []);
      // Persistence is page logic, the same on both backends: it is tested once, on the CPU
      // (on SwiftShader a reload and an import would relearn the history twice more, ~10 min).
      if (mode.webgpu) return;
      // A reload keeps the history (relearnt on top of the cached warm-start weights).
      await page.locator('#warm-source').filter({ hasText: /cached in this browser/ }).waitFor({ timeout: 60_000 });
      await page.reload();
      await waitForModels(page);
      await learnt(page, EVENTS);
      assert.equal(await timeline.count(), EVENTS);
      assert.match(await page.locator('#warm-source').textContent(), /loaded from this browser's cache/);

      // Export writes history and weights; importing that file brings back the same history.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()]);
      const exported = JSON.parse(await streamText(await download.createReadStream()));
      assert.equal(exported.plays.length, EVENTS);
      assert.ok(JSON.parse(exported.warm).length === 2, 'both models\' weights are exported');
      cpuWarm = exported.warm;
      await page.getByLabel('Import file').setInputFiles({ name: 'mine.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(exported)) });
      await page.locator('#play-message').filter({ hasText: `Imported ${EVENTS} plays and the models' weights.` }).waitFor({ timeout: 10_000 });
      await waitForModels(page);
      await learnt(page, EVENTS);

      // A corrupted import says what is wrong and changes nothing.
      await page.getByLabel('Import file').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format": "skipwise-history", "plays": [') });
      await page.getByRole('alert').filter({ hasText: /^Import failed: .*line \d+.*unchanged/ }).waitFor({ timeout: 10_000 });
      assert.equal(await timeline.count(), EVENTS);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
}

test('readable at 360 px, driven by the keyboard, and free of CSP violations', { timeout: 300_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const page = await browser.newPage({ viewport: { width: 360, height: 800 } });
    // Run against ./scripts/serve by the test command too: its page must load, play and train
    // under its Content-Security-Policy without a single violation.
    const errors = await collectErrors(page);
    await page.goto(server.url);
    assert.match(await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content || ''), /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
    await page.getByRole('button', { name: 'Movies' }).click();
    await waitForModels(page);
    const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => `${e.tagName}.${e.className}`));
    assert.deepEqual(wide, [], 'nothing sticks out of a 360 px screen');
    // Space plays the top recommendation, S skips it at once: an FP. (Space on a focused button
    // presses that button, so focus leaves the catalog switch first.)
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
    await page.keyboard.press('s');
    await page.locator('#play-message').filter({ hasText: /^FP: skipped after \d+ s/ }).waitFor({ timeout: 30_000 });
    assert.match(await page.locator('#latency').textContent(), /^Learnt from 1 plays/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
