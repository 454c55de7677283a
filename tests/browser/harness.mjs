// What the browser tests share: the local stack on a free port (stopped by the run that
// started it), Debian's Chromium, and the axe-core accessibility audit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const SHOTS = new URL('../../screenshots/', import.meta.url).pathname;
export const ADMIN_TOKEN = 'browser-admin';

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts the local stack (LOCAL_STACK_BIN) with its demo data; answers its base URL and process. */
export async function startStack(env = {}) {
  const bin = process.env.LOCAL_STACK_BIN;
  assert.ok(bin, 'LOCAL_STACK_BIN names the local stack binary (make test sets it)');
  const port = await freePort();
  const stack = spawn(bin, [], {
    env: { ...process.env, PORT: String(port), ADMIN_TOKEN, WRITES_PER_MINUTE: '1000', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const printed = await new Promise((resolve, reject) => {
    let out = '';
    stack.stdout.on('data', (d) => { out += d; if (out.includes('Ctrl-C')) resolve(out); });
    stack.on('exit', (code) => reject(new Error(`local stack exited ${code}: ${out}`)));
  });
  // "DynamoDB     http://127.0.0.1:8000 (table rally-local-123, …)": where `rally` writes.
  const [, endpoint, table] = printed.match(/DynamoDB\s+(\S+) \(table (\S+),/) ?? [];
  return { base: `http://127.0.0.1:${port}`, stack, endpoint, table };
}

export async function launchBrowser() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The WCAG 2.1 A and AA violations axe-core finds on the page, each with where it is. */
export async function audit(page) {
  // The page's CSP forbids inline script; the audit's context bypasses it (bypassCSP).
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } }));
  return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
}
