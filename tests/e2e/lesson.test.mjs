// The page's lesson (issue #12), as a visitor meets it on the CPU fallback with the full warm
// start: skip what auto-next plays and the FP-aware list drops it (12 skips after two plays, and
// 8 on a fresh page); let Autopilot run 200+ events and FP-AdaMetric's hit rate stays above
// Vanilla's. Each test prints what it measured.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launch, DIST, collectErrors } from './harness.mjs';

let server;
before(async () => { server = await serve(DIST); });
after(async () => { await server.close(); });

async function waitForModels(page) {
  await page.waitForFunction(() => {
    const list = document.querySelector('ol[aria-label="Recommendations"]');
    return list && list.children.length === 10 && !document.querySelector('#warmup');
  }, null, { timeout: 600_000 });
}
const learnt = (page, n) => page.locator('#latency').filter({ hasText: new RegExp(`^Learnt from ${n} plays`) }).waitFor({ timeout: 120_000 });
const speed = (page, s) => page.getByRole('group', { name: 'Speed' }).getByRole('button', { name: s, exact: true }).click();
const reach = (page, secs) => page.waitForFunction((secs) => {
  const [m, s] = document.querySelector('#position').textContent.split('/')[0].trim().split(':').map(Number);
  return m * 60 + s >= secs;
}, secs, { timeout: 60_000 });
const playing = (page) => page.locator('#now').getAttribute('data-item');
/** Item ids of a list, top first. */
const items = (page, name) => page.getByRole('list', { name, exact: true }).locator('li').evaluateAll((lis) => lis.map((li) => li.dataset.item));
const mean = (v) => v.reduce((a, b) => a + b, 0) / Math.max(v.length, 1);

async function withPage(body) {
  const browser = await launch({ webgpu: false });
  try {
    const page = await browser.newPage();
    const errors = await collectErrors(page);
    await page.goto(server.url);
    await waitForModels(page);
    await body(page);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
}

/** After `positives` play-throughs, skips whatever plays `skips` times (~1 s in); the rank of
 * each just-skipped item in "Recommendations" after its skip (11 = out of the top 10). */
async function skipFlow(page, positives, skips) {
  const skip = page.getByRole('button', { name: 'Skip', exact: true });
  await speed(page, positives > 0 ? '×60' : '×1');
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  for (let n = 1; n <= positives; n++) {
    await reach(page, 15);
    await speed(page, '×1');
    await skip.click();
    await learnt(page, n);
    if (n < positives) await speed(page, '×60');
  }
  const ranks = [];
  for (let n = positives + 1; n <= positives + skips; n++) {
    await reach(page, 1);
    const item = await playing(page);
    await skip.click();
    await learnt(page, n);
    const list = await items(page, 'Recommendations');
    const at = list.indexOf(item);
    ranks.push(at < 0 ? 11 : at + 1);
    assert.match(await page.locator('#play-message').textContent(), /^FP: skipped after \d+ s/);
  }
  return ranks;
}

test('twelve skips of what auto-next plays: each skipped item falls in "Recommendations", and the page says why', { timeout: 900_000 }, () => withPage(async (page) => {
  const ranks = await skipFlow(page, 2, 12);
  console.log(`# 12-skip flow: ranks after each skip ${ranks.join(' ')}, mean ${mean(ranks).toFixed(2)}`);
  assert.ok(mean(ranks) >= 8, `mean rank ${mean(ranks)} (${ranks})`);

  // Each item's reason names a play-through of the session and its score change.
  const played = await page.getByRole('list', { name: 'Session timeline' }).locator('li.tp').evaluateAll((lis) => lis.map((li) => li.textContent.replace(/^(✓|FP|…)/, '').split(' · ')[0].trim()));
  const row = page.getByRole('list', { name: 'Recommendations', exact: true }).locator('li').first();
  const title = (await row.locator('.title').textContent()).trim();
  await page.getByRole('button', { name: `Why ${title}?` }).click();
  const reason = (await row.locator('.reason').textContent()).trim();
  console.log(`# reason of "${title}": ${reason}`);
  assert.match(reason, /^(Score [+−]\d+\.\d\d|Score unchanged) since your last play · closest to “(.+)”, which you played/);
  assert.ok(played.some((p) => reason.includes(`“${p}”`)), `${reason} names one of ${played}`);
  assert.equal(await page.getByRole('button', { name: `Why ${title}?` }).getAttribute('aria-expanded'), 'true');
  // The strip says what dropped out with the last play: here the item just skipped.
  const dropped = await page.locator('#dropped').textContent();
  assert.match(dropped, /^(Dropped since your last play: .*\(skipped\)|Nothing dropped out since your last play\.)/, dropped);
  // The map: a cross per distinct skip, a circle per distinct play, trails for skips seen twice or more.
  const crosses = await page.locator('svg.map g.map-fp').count();
  const circles = await page.locator('svg.map circle.map-tp').count();
  assert.equal(crosses, 12);
  assert.equal(circles, 2);
  assert.ok(await page.locator('svg.map polyline.map-trail.fp').count() >= 1, 'skipped items leave trails');

  // The tour: it steps with focus inside it, and its guess is answered from the live lists.
  await page.getByRole('button', { name: 'Tour', exact: true }).click();
  const tour = page.getByRole('complementary', { name: 'Guided tour' });
  const focusInTour = () => page.evaluate(() => !!document.activeElement?.closest('aside.tour'));
  assert.ok(await focusInTour(), 'the open tour has the focus');
  for (let i = 0; i < 2; i++) {
    await tour.getByRole('button', { name: 'Next' }).click();
    assert.ok(await focusInTour(), `focus stays in the tour at step ${i + 2}`);
  }
  assert.match(await tour.textContent(), /Step 3 of \d+/);
  assert.doesNotMatch(await tour.textContent(), /hinge/i);
  await tour.getByRole('button', { name: "Vanilla's list" }).click();
  const reveal = await page.locator('#tour-reveal').textContent();
  const counts = (await page.locator('#skipped-genre-counts').textContent()).match(/FP-AdaMetric (\d+) · Vanilla (\d+)/);
  console.log(`# tour reveal: ${reveal}`);
  assert.ok(counts, 'the per-list counts are shown');
  assert.ok(reveal.includes(`FP-AdaMetric offers ${counts[1]}, Vanilla ${counts[2]}`), `${reveal} vs ${counts[0]}`);
  await tour.getByRole('button', { name: 'Close tour' }).click();
}));

test('eight skips on a fresh page move the cold-start list by the model', { timeout: 900_000 }, () => withPage(async (page) => {
  const before = await items(page, 'Recommendations');
  const ranks = await skipFlow(page, 0, 8);
  console.log(`# 8 fresh skips: ranks after each skip ${ranks.join(' ')}, mean ${mean(ranks).toFixed(2)}`);
  assert.ok(mean(ranks) >= 6, `mean rank ${mean(ranks)} (${ranks})`);
  assert.notDeepEqual(await items(page, 'Recommendations'), before);
}));

test('Autopilot over 200+ events: FP-AdaMetric ahead of Vanilla, never at 0 for long, skips at the curiosity rate', { timeout: 900_000 }, () => withPage(async (page) => {
  const EVENTS = 210;
  await page.getByRole('button', { name: 'Start autopilot' }).click();
  await page.waitForFunction((n) => (document.querySelector('#hit-rate-chart').dataset.fpAware || '').split(' ').filter(Boolean).length >= n, EVENTS, { timeout: 800_000 });
  await page.getByRole('button', { name: 'Stop autopilot' }).click();
  const series = async (key) => (await page.locator('#hit-rate-chart').getAttribute(key)).split(' ').map(Number);
  const ada = await series('data-fp-aware');
  const vanilla = await series('data-vanilla');
  const half = Math.floor(ada.length / 2);
  const [a2, v2] = [mean(ada.slice(half)), mean(vanilla.slice(half))];
  const badges = await page.getByRole('list', { name: 'Session timeline' }).getByRole('listitem').evaluateAll((lis) => lis.map((li) => li.className));
  const skipShare = badges.filter((c) => c === 'fp').length / badges.filter((c) => c !== 'pending').length;
  let run = 0, worst = 0;
  for (const h of ada) { run = h === 0 ? run + 1 : 0; worst = Math.max(worst, run); }
  console.log(`# autopilot: ${ada.length} events; second half FP-AdaMetric ${a2.toFixed(3)}, Vanilla ${v2.toFixed(3)}; skip share ${skipShare.toFixed(2)}; longest run at 0: ${worst}`);
  console.log(`# FP-AdaMetric series: ${ada.join(' ')}`);
  console.log(`# Vanilla series: ${vanilla.join(' ')}`);
  assert.ok(ada.length >= 200, 'no stop at a fixed count');
  assert.ok(a2 > v2, `FP-AdaMetric ${a2} vs Vanilla ${v2}`);
  assert.ok(worst < 20, `FP-AdaMetric at 0 for ${worst} events in a row`);
  assert.ok(Math.abs(skipShare - 0.3) <= 0.15, `skip share ${skipShare}`);
}));
