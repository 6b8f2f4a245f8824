// Shared browser-test plumbing: a static server for the built page on 127.0.0.1 and Debian's
// Chromium driven by playwright-core, with WebGPU on (SwiftShader) or off (CPU fallback).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { chromium } from 'playwright-core';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
};

/**
 * Serves `dir` on an ephemeral loopback port; resolves to { url, close }. With SKIPWISE_URL set
 * (e.g. http://127.0.0.1:8080/ from ./scripts/serve) the tests use that server instead.
 */
export function serve(dir) {
  if (process.env.SKIPWISE_URL) return Promise.resolve({ url: process.env.SKIPWISE_URL, close: async () => {} });
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = path.join(dir, rel);
    if (!file.startsWith(path.resolve(dir))) { res.writeHead(403).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, body) => {
      if (err) { res.writeHead(404).end('not found'); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(r)) });
  }));
}

/** Launches headless Chromium; `webgpu` adds the flag that exposes SwiftShader's adapter. */
export async function launch({ webgpu }) {
  const args = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args,
  });
}

export const DIST = process.env.SKIPWISE_DIST || path.resolve(import.meta.dirname, '../../dist');
export const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'skipwise-e2e-'));

/**
 * Collects what must never happen on a page: uncaught errors, console errors (the worker's
 * included: Chromium reports them on the page's console) and Content-Security-Policy violations.
 * Call before `goto`; the returned array fills as they happen.
 */
export async function collectErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  await page.exposeFunction('__skipwiseCsp', (text) => errors.push(`CSP: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => window.__skipwiseCsp(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
  });
  return errors;
}
