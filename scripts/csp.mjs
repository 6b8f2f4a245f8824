// Trunk's post-build hook (Trunk.toml [[hooks]]): gives the built page a Content-Security-Policy.
//
// Trunk writes its loader as an inline <script type="module"> whose text names the hashed file
// names, so its hash changes with every build: this hook hashes every inline script of the staged
// index.html and allows exactly those, plus same-origin scripts and WebAssembly compilation
// ('wasm-unsafe-eval'). No 'unsafe-eval', no 'unsafe-inline' scripts. Styles may be inline
// (Leptos sets style attributes for covers, bars and the map), nothing else is loaded from
// anywhere but the page's own origin.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('csp.mjs: TRUNK_STAGING_DIR is not set (run by trunk as a post_build hook)');
  process.exit(1);
}
const file = path.join(dir, 'index.html');
let html = fs.readFileSync(file, 'utf8');
const hashes = [];
for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
  hashes.push(`'sha256-${crypto.createHash('sha256').update(m[1], 'utf8').digest('base64')}'`);
}
const policy = [
  "default-src 'self'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
].join('; ');
const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}" />`;
html = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\s*/g, '');
// First in <head>: the policy must come before anything it governs.
html = html.replace(/<head>/, `<head>\n    ${meta}`);
fs.writeFileSync(file, html);
console.log(`csp.mjs: ${hashes.length} inline script(s) allowed by hash`);
