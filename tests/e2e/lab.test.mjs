// The Lab: `skipwise compare` in a browser tab. On the simulator it produces a table with a row
// per method, and the file it downloads is the one the CLI writes when given the commands the Lab
// shows (run here, natively); a dropped log in every format trains; a malformed one shows the
// loader's error and leaves the loaded dataset; Cancel stops a run. CPU path only: the Lab never
// uses WebGPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { serve, launch, DIST, collectErrors, tmp } from './harness.mjs';

let server;
before(async () => { server = await serve(DIST); });
after(async () => { await server.close(); });

const DATA = path.resolve(import.meta.dirname, '../data');
const CACHE = process.env.SKIPWISE_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'skipwise');
const CLI = process.env.SKIPWISE_CLI || path.join(CACHE, 'target-native/release/skipwise');

async function streamText(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

async function openLab(browser) {
  const page = await browser.newPage();
  const errors = await collectErrors(page);
  await page.goto(server.url);
  await page.getByRole('tab', { name: 'Lab' }).click();
  return { page, errors };
}

const dataset = (page) => page.getByLabel('Loaded dataset', { exact: true });

/** Sets the experiment: methods (by label), epochs, seeds and sizes. */
async function configure(page, { methods, epochs, seeds = '1', dim = '16', hidden = '16', patience = '3' }) {
  for (const m of ['Vanilla', 'FP-Simple', 'FP-Metric', 'FP-AdaMetric']) {
    await page.getByRole('group', { name: 'Methods' }).getByLabel(m, { exact: true }).setChecked(methods.includes(m));
  }
  await page.getByLabel('Epochs', { exact: true }).fill(String(epochs));
  await page.getByLabel('Epochs', { exact: true }).dispatchEvent('change');
  await page.getByLabel('Patience (epochs)', { exact: true }).fill(patience);
  await page.getByLabel('Patience (epochs)', { exact: true }).dispatchEvent('change');
  await page.getByLabel('Seeds', { exact: true }).fill(seeds);
  await page.getByLabel('Seeds', { exact: true }).dispatchEvent('change');
  await page.getByLabel('Embedding size', { exact: true }).fill(dim);
  await page.getByLabel('Embedding size', { exact: true }).dispatchEvent('change');
  await page.getByLabel('Hidden size', { exact: true }).fill(hidden);
  await page.getByLabel('Hidden size', { exact: true }).dispatchEvent('change');
}

async function runToTable(page, timeout = 300_000) {
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const table = page.getByRole('table', { name: 'Lab results' });
  await table.waitFor({ timeout });
  return table.locator('tbody tr th').allTextContents();
}

test('the Lab on the simulator: a row per method, curves, and the file the CLI writes for its commands', { timeout: 600_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const { page, errors } = await openLab(browser);
    await page.getByLabel('Listeners', { exact: true }).fill('60');
    await page.getByLabel('Listeners', { exact: true }).dispatchEvent('change');
    await page.getByRole('button', { name: 'Load dataset' }).click();
    await dataset(page).filter({ hasText: /^sim\.csv \(csv\): \d+ lines, \d+ sessions/ }).waitFor({ timeout: 60_000 });
    await configure(page, { methods: ['Vanilla', 'FP-Simple', 'FP-AdaMetric'], epochs: 3 });
    const t0 = Date.now();
    const rows = await runToTable(page);
    console.log(`# Lab on 60 simulated listeners, 3 methods × 3 epochs: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.deepEqual(rows, ['Vanilla (FPs in input)', 'Vanilla (FPs removed from input)', 'FP-Simple', 'FP-AdaMetric']);
    // Each run's epochs reached the curves (early stopping may end one sooner).
    const epochs = await page.getByRole('list', { name: 'Lab epochs' }).locator('li').allTextContents();
    assert.ok(epochs.length >= 3 && epochs.every((e) => /loss \d+\.\d{4}, valid MRR@20 \d\.\d{4}$/.test(e)), epochs.join('\n'));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download results (JSON)' }).click()]);
    const lab = JSON.parse(await streamText(await download.createReadStream()));
    assert.equal(lab.protocol, 'paper');
    assert.equal(lab.methods.length, 4);

    // The commands the Lab shows, run natively in a fresh directory.
    const command = await page.getByLabel('Lab command', { exact: true }).textContent();
    // Definition 1's scope by default, as the CLI's (the native test runs the session's).
    assert.equal(await page.getByLabel('FP scope', { exact: true }).inputValue(), 'user');
    assert.match(command, /--fp-scope user /);
    const dir = tmp();
    for (const part of command.split(' && ')) {
      const [bin, ...args] = part.trim().split(/\s+/);
      assert.equal(bin, 'skipwise');
      execFileSync(CLI, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    }
    const cli = JSON.parse(fs.readFileSync(path.join(dir, 'lab.json'), 'utf8'));
    for (const key of ['data', 'format', 'protocol', 'sequences', 'items', 'fp_share', 'split', 'backbone', 'seeds', 'configs']) {
      assert.deepEqual(lab[key], cli[key], key);
    }
    // The same experiment: wasm's and the native build's float arithmetic differ in the last
    // bits (SIMD widths, summation order), which can move a tied rank now and then.
    let worst = 0;
    lab.methods.forEach((row, i) => {
      assert.equal(row.method, cli.methods[i].method);
      assert.deepEqual(row.epochs, cli.methods[i].epochs, row.method);
      for (const [key, value] of Object.entries(row.metrics)) {
        const delta = Math.abs(value - cli.methods[i].metrics[key]);
        worst = Math.max(worst, delta);
        assert.ok(delta <= 0.02, `${row.method} ${key}: Lab ${value}, CLI ${cli.methods[i].metrics[key]}`);
      }
    });
    console.log(`# Lab vs CLI: the largest difference of any metric is ${worst.toExponential(2)}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

const FILES = [
  ['ml-100k-u.data', 'udata'],
  ['ml-100k.inter', 'inter'],
  ['ml-1m-ratings.dat', 'ml1m'],
  ['ml-latest-ratings.csv', 'ratings-csv'],
  ['mssd-log.csv', 'mssd'],
  ['lastfm-1k.tsv', 'lastfm'],
];

test('a dropped log in every format trains; a malformed one shows where and keeps the dataset; Cancel stops a run', { timeout: 600_000 }, async () => {
  const browser = await launch({ webgpu: false });
  try {
    const { page, errors } = await openLab(browser);
    await page.getByLabel('Your own log', { exact: true }).check();
    await configure(page, { methods: ['FP-Simple'], epochs: 1, dim: '8', hidden: '8' });
    // The first one is dropped as a visitor drops it (a drop event carrying the file).
    const first = fs.readFileSync(path.join(DATA, FILES[0][0]), 'utf8');
    const transfer = await page.evaluateHandle(([name, text]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], name));
      return dt;
    }, [FILES[0][0], first]);
    await page.locator('fieldset.lab-data').dispatchEvent('drop', { dataTransfer: transfer });
    for (const [i, [file, format]] of FILES.entries()) {
      if (i > 0) await page.getByLabel('Log file', { exact: true }).setInputFiles(path.join(DATA, file));
      await dataset(page).filter({ hasText: `${file} (${format}):` }).waitFor({ timeout: 60_000 });
      assert.deepEqual(await runToTable(page, 120_000), ['FP-Simple'], file);
    }
    // The generic CSV needs its columns.
    await page.getByText('Format and FP rule').click();
    await page.getByLabel('Format', { exact: true }).selectOption('csv');
    await page.getByLabel('CSV columns', { exact: true }).fill('user=listener,item=track,time=when,played=seconds_played,duration=track_seconds');
    await page.getByLabel('CSV columns', { exact: true }).dispatchEvent('change');
    await page.getByLabel('Log file', { exact: true }).setInputFiles(path.join(DATA, 'plays-generic.csv'));
    await dataset(page).filter({ hasText: 'plays-generic.csv (csv):' }).waitFor({ timeout: 60_000 });
    assert.deepEqual(await runToTable(page, 120_000), ['FP-Simple'], 'plays-generic.csv');
    const loaded = await dataset(page).textContent();

    // A MovieLens file whose second line has no item: the loader's words, and nothing changes.
    await page.getByLabel('Format', { exact: true }).selectOption('');
    await page.getByLabel('Log file', { exact: true }).setInputFiles({ name: 'broken.data', mimeType: 'text/plain', buffer: Buffer.from('1\t2\t5\t880000000\n1\t\t5\t880000100\n') });
    const alert = page.locator('.lab p[role="alert"]');
    await alert.filter({ hasText: /^broken\.data:2/ }).waitFor({ timeout: 30_000 });
    console.log(`# malformed file: ${await alert.textContent()}`);
    assert.equal(await dataset(page).textContent(), loaded);
    assert.equal(await page.getByRole('table', { name: 'Lab results' }).locator('tbody tr').count(), 1, 'the last results stay');

    // Cancel: a long run (no early stop) stops between two steps.
    await configure(page, { methods: ['Vanilla', 'FP-AdaMetric'], epochs: 500, dim: '8', hidden: '8', patience: '500' });
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.locator('.lab .status').filter({ hasText: /^Run 1 of 2/ }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.lab .status').filter({ hasText: /^Cancelled/ }).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByRole('button', { name: 'Run', exact: true }).isEnabled(), true);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
