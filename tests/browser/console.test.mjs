// The organiser's console at /admin in a real headless Chromium, against its own local
// stack with the demo data: signing in, moderating (with the mouse and with the keyboard
// alone), running a campaign end to end, the chart, the export, and an axe-core audit of
// every page in both colour schemes. Run by `make test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startStack, launchBrowser, audit, SHOTS, ADMIN_TOKEN } from './harness.mjs';

let stack, browser, base;
const admin = { 'Content-Type': 'application/json', Authorization: `Bearer ${ADMIN_TOKEN}` };
const recent = 'families-still-held-at-the-border';

before(async () => {
  ({ base, stack } = await startStack());
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  stack?.kill('SIGINT');
});

async function open(options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) page.foreign.push(r.url()); });
  page.dialogs = [];
  page.on('dialog', (d) => { page.dialogs.push(d.message()); d.accept(); });
  return page;
}

/** The console, signed in, on `hash`. */
async function console_(hash = '#/queue', options = {}) {
  const page = await open(options);
  await page.goto(`${base}/admin`);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#nav').waitFor();
  await page.evaluate((h) => { location.hash = h; }, hash);
  return page;
}

/** A comment a stranger posts with three links: held for them. */
async function heldComment(author, slug = recent) {
  const body = `${author} writes: [a](https://a.example/1) [b](https://b.example/2) [c](https://c.example/3)`;
  const r = await fetch(`${base}/posts/${slug}/comments`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ author, body }) });
  assert.equal(r.status, 202, `${author}'s comment is held`);
  return (await r.json()).comment.id;
}

async function statusOf(id) {
  for (const status of ['pending', 'spam']) {
    const r = await (await fetch(`${base}/admin/comments?status=${status}&limit=200`, { headers: admin })).json();
    if (r.items.some((c) => c.id === id)) return status;
  }
  const thread = await (await fetch(`${base}/posts/${recent}/comments?limit=200`)).json();
  return thread.items.some((c) => c.id === id) ? 'approved' : 'gone';
}

test('signing in: a wrong token is refused, the right one is kept in the tab only, sign out forgets it', async () => {
  const page = await open();
  await page.goto(`${base}/admin`);
  await page.getByLabel('Admin token').fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('not this deployment\u2019s admin token').waitFor();
  assert.equal(await page.locator('#nav').isVisible(), false);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Moderation', exact: true }).waitFor();
  const kept = await page.evaluate(() => ({ session: sessionStorage.getItem('rally-admin-token'), local: localStorage.length, cookie: document.cookie, url: location.href }));
  assert.equal(kept.session, ADMIN_TOKEN);
  assert.equal(kept.local, 0, 'nothing in localStorage');
  assert.equal(kept.cookie, '', 'no cookie');
  assert.ok(!kept.url.includes(ADMIN_TOKEN), 'the token is never in the URL');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('rally-admin-token')), null);
  assert.deepEqual(page.foreign, []);
  await page.context().close();
});

test('the console page has a strict policy, may not be framed, and its data is never cached', async () => {
  const page = await fetch(`${base}/admin`);
  const csp = page.headers.get('content-security-policy');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  const html = await page.text();
  assert.doesNotMatch(html, /<script>(?!<\/script>)|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  for (const path of ['/admin/comments', '/admin/petitions', `/admin/petitions/stop-the-repatriations/daily`]) {
    const r = await fetch(base + path, { headers: admin });
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('cache-control'), 'no-store', path);
  }
  const gzip = (await import('node:zlib')).gzipSync;
  const size = ['/admin', '/admin/console.js', '/admin/console.css'].map((p) => p);
  let total = 0;
  for (const path of size) total += gzip(Buffer.from(await (await fetch(base + path)).text())).length;
  assert.ok(total < 30 * 1024, `the console is ${total} bytes gzipped`);
});

test('approve, spam and delete from the queue, and the widget on the blog changes; the queue updates itself', async () => {
  const [keep, junk, gone] = [await heldComment('Approve me'), await heldComment('Spam me'), await heldComment('Delete me')];
  const page = await console_();
  const item = (author) => page.locator('li.item', { hasText: `${author} writes` });
  await item('Delete me').waitFor();
  assert.match(await item('Approve me').locator('.badge').textContent(), /too many links/);
  // The body is the sanitised HTML readers would see: links, no script.
  assert.equal(await item('Approve me').locator('.body a[rel~="nofollow"]').count(), 3);
  await item('Approve me').getByRole('button', { name: 'Approve' }).click();
  await item('Approve me').waitFor({ state: 'detached' });
  await item('Spam me').getByRole('button', { name: 'Spam' }).click();
  await item('Spam me').waitFor({ state: 'detached' });
  await item('Delete me').getByRole('button', { name: 'Delete' }).click();
  await item('Delete me').waitFor({ state: 'detached' });
  assert.deepEqual([await statusOf(keep), await statusOf(junk), await statusOf(gone)], ['approved', 'spam', 'gone']);

  const blog = await open();
  await blog.goto(`${base}/`);
  await blog.locator(`#${recent} .rally-thread`).waitFor();
  assert.equal(await blog.locator(`#${recent} .rally-c`, { hasText: 'Approve me writes' }).count(), 1);
  assert.equal(await blog.locator(`#${recent} .rally-c`, { hasText: 'Spam me writes' }).count(), 0);

  // A comment held while the queue is open appears without a reload.
  await heldComment('Arrives later');
  await item('Arrives later').waitFor({ timeout: 15000 });
  await page.goto(`${base}/admin#/queue/spam`);
  await item('Spam me').waitFor();
  await blog.context().close();
  await page.context().close();
});

test('what strangers wrote is shown as text or sanitised HTML in the queue, and runs nothing', async () => {
  const hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  await heldComment(hostile);
  const page = await console_();
  const item = page.locator('li.item', { hasText: 'writes' }).filter({ hasText: '<img src=x' });
  await item.waitFor();
  assert.equal(await item.locator('strong').first().textContent(), hostile, 'the author is text');
  await page.waitForTimeout(500);
  assert.equal(await page.locator('li.item img, li.item script, li.item [onerror]').count(), 0);
  assert.deepEqual(page.dialogs, [], 'no alert ran');
  await item.getByRole('button', { name: 'Delete' }).click();
  await item.waitFor({ state: 'detached' });
  await page.context().close();
});

test('keyboard-only moderation of three comments', async () => {
  const ids = [await heldComment('Key one'), await heldComment('Key two'), await heldComment('Key three')];
  const page = await open();
  await page.goto(`${base}/admin`);
  await page.keyboard.type(ADMIN_TOKEN);
  await page.keyboard.press('Enter');
  await page.locator('li.item', { hasText: 'Key three writes' }).waitFor();
  // Tab from the top until the first comment of the queue has the focus.
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement.matches('li.item'))) break;
  }
  const focused = () => page.evaluate(() => document.activeElement.closest('li.item')?.textContent ?? '');
  const visible = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(visible, 'none', 'the focused comment shows its focus');
  // Newest first: Key three, Key two, Key one.
  assert.match(await focused(), /Key three writes/);
  await page.keyboard.press('a');
  await page.locator('li.item', { hasText: 'Key three writes' }).waitFor({ state: 'detached' });
  assert.match(await focused(), /Key two writes/, 'the focus moves to the next comment');
  await page.keyboard.press('x');
  await page.keyboard.press('j');
  assert.match(await focused(), /Key one writes/);
  await page.keyboard.press('x');
  await page.keyboard.press('s');
  await page.locator('li.item', { hasText: 'Key one writes' }).waitFor({ state: 'detached' });
  assert.equal(await page.locator('li.item', { hasText: 'Key two writes' }).count(), 0);
  assert.deepEqual([await statusOf(ids[2]), await statusOf(ids[1]), await statusOf(ids[0])], ['approved', 'spam', 'spam']);
  await page.context().close();
});

test('a campaign end to end: a petition and a pledge, a post that embeds them, seen on the demo blog, then closed', async () => {
  const page = await console_('#/petitions/new');
  await page.getByLabel('Slug').fill('free-the-families');
  await page.getByLabel('Title').fill('Free the families');
  await page.getByLabel('Text').fill('We ask for the families to be released.');
  await page.getByLabel('Addressed to').fill('The Ministry');
  await page.getByLabel('Goal (signatures)').fill('500');
  await page.getByLabel('Milestones').fill('50, 100');
  await page.getByRole('button', { name: 'Create petition' }).click();
  await page.getByRole('heading', { name: 'Free the families', level: 1 }).waitFor();

  await page.evaluate(() => { location.hash = '#/pledges/new'; });
  await page.getByLabel('Slug').fill('five-for-the-families');
  await page.getByLabel('Title').fill('I will give $5 if 100 others will');
  await page.getByLabel('Text').fill('For their travel.');
  await page.getByLabel('Threshold (signups)').fill('100');
  await page.getByLabel('Suggested amount').fill('5');
  await page.getByLabel('How to give, once it succeeds').fill('Give through the fund\u2019s page.');
  await page.getByLabel('Where to give (link)').fill('https://fund.example/give');
  await page.getByLabel('Petition it supports').selectOption('free-the-families');
  await page.getByRole('button', { name: 'Create pledge' }).click();
  await page.getByRole('heading', { name: 'I will give $5 if 100 others will', level: 1 }).waitFor();

  await page.evaluate(() => { location.hash = '#/posts/new'; });
  await page.getByLabel('Slug').fill('the-families-campaign');
  await page.getByLabel('Title').fill('The families campaign');
  await page.getByLabel('Author').fill('Min-jun');
  await page.getByLabel('Tags').fill('refugees, campaign');
  await page.getByLabel('Body (Markdown)').fill('Please **sign** below.');
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.locator('#preview strong', { hasText: 'sign' }).waitFor();
  await page.getByLabel('Petition shown with the post').selectOption('free-the-families');
  await page.getByLabel('Pledge shown with the post').selectOption('five-for-the-families');
  await page.getByRole('button', { name: 'Create post' }).click();
  await page.getByRole('heading', { name: 'Embed snippet' }).waitFor();
  const snippet = await page.locator('#snippet').textContent();
  assert.match(snippet, /data-comments="the-families-campaign"/);
  assert.match(snippet, /data-petition="free-the-families"/);
  assert.match(snippet, /data-pledge="five-for-the-families"/);
  assert.match(snippet, new RegExp(`src="${base}/embed.js"`));

  // A bad edit is refused with the field named, and nothing changes.
  await page.getByLabel('Title').fill('');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('#f-title-error').getByText(/required|empty|at least/).waitFor();

  const blog = await open();
  await blog.goto(`${base}/`);
  const article = blog.locator('#the-families-campaign');
  await article.locator('section.rally-petition').waitFor();
  await article.locator('section.rally-pledge').waitFor();
  assert.equal(await article.locator('strong', { hasText: 'sign' }).count(), 1, 'the body is the rendered Markdown');
  assert.match(await article.locator('section.rally-petition').textContent(), /Free the families/);

  await page.evaluate(() => { location.hash = '#/petitions/free-the-families'; });
  await page.getByRole('button', { name: 'Close now' }).click();
  await page.locator('#state', { hasText: 'is closed' }).waitFor();
  const closed = await (await fetch(`${base}/petitions/free-the-families`)).json();
  assert.equal(closed.open, false);
  await blog.reload();
  await blog.locator('#the-families-campaign section.rally-petition .rally-closed').waitFor();
  await blog.context().close();
  await page.context().close();
});

test('the chart matches the seeded signups per day, and the CSV export downloads every signature', async () => {
  // The demo seed confirms its four signers 6, 3, 3 and 0 days ago.
  const ago = (n) => new Date(Date.now() - n * 864e5).toISOString().slice(0, 10);
  const expected = [[ago(6), '1'], [ago(3), '2'], [ago(0), '1']];
  const page = await console_('#/petitions/stop-the-repatriations');
  const rows = page.locator('#chart-signups-table tbody tr');
  await rows.first().waitFor({ state: 'attached' });
  const table = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(table, expected);
  const bars = await page.locator('#chart-signups rect title').allTextContents();
  assert.ok(bars.includes(`${ago(3)}: 2 signups`), bars.join());
  assert.ok(bars.includes(`${ago(5)}: 0 signups`), 'days without signups are drawn as empty');
  assert.match(await page.locator('#chart-signups desc').textContent(), /4 signups in all; the most, 2, on/);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
  assert.equal(download.suggestedFilename(), 'stop-the-repatriations-signatures.csv');
  assert.match(csv[0], /email/);
  assert.equal(csv.length, 5, 'a header and the four seeded signers');
  assert.ok(csv.some((line) => line.includes('grace@example.org')));

  // A pledge's chart also draws what was pledged each day ($3 a signer).
  await page.evaluate(() => { location.hash = '#/pledges/three-dollars-for-the-fund'; });
  const amounts = page.locator('#chart-amounts-table tbody tr');
  await amounts.first().waitFor({ state: 'attached' });
  assert.deepEqual(await amounts.evaluateAll((trs) => trs.map((tr) => tr.children[1].textContent)), ['3', '6', '3']);
  await page.context().close();
});

test('an organiser update is written and sent from the console, with its progress', async () => {
  const page = await console_('#/petitions/stop-the-repatriations');
  await page.getByLabel('Subject').fill('We delivered the petition');
  await page.getByLabel('Update (plain text or Markdown)').fill('Thank you all: it was handed in today.');
  await page.getByRole('button', { name: 'Send update' }).click();
  await page.locator('#updates li', { hasText: 'We delivered the petition' }).waitFor();
  await page.locator('#updates .update-progress', { hasText: /^done: 3 sent, 0 pending, 0 failed$/ }).waitFor({ timeout: 20000 });
  await page.context().close();
});

/** Waits until the page has drawn what it loads. */
async function settled(page) {
  await page.locator('main h1').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('main').textContent.includes('Loading\u2026'));
  await page.waitForTimeout(300);
}

const PAGES = [
  ['signin', null],
  ['queue', '#/queue'],
  ['spam', '#/queue/spam'],
  ['posts', '#/posts'],
  ['post-edit', `#/posts/${recent}`],
  ['post-new', '#/posts/new'],
  ['petitions', '#/petitions'],
  ['petition', '#/petitions/stop-the-repatriations'],
  ['pledges', '#/pledges'],
  ['pledge', '#/pledges/three-dollars-for-the-fund'],
  ['petition-new', '#/petitions/new'],
  ['pledge-new', '#/pledges/new'],
];

test('axe-core finds no WCAG 2.1 AA violation on any console page or on the demo blog, light or dark; screenshots of each', async () => {
  const found = [];
  for (const scheme of ['light', 'dark']) {
    for (const [name, hash] of PAGES) {
      const options = { colorScheme: scheme, bypassCSP: true, viewport: { width: 1000, height: 900 } };
      const page = hash ? await console_(hash, options) : await open(options);
      if (!hash) await page.goto(`${base}/admin`);
      await settled(page);
      for (const v of await audit(page)) found.push({ page: name, scheme, ...v });
      await page.screenshot({ path: `${SHOTS}console-${name}-${scheme}.png`, fullPage: true });
      await page.context().close();
    }
    const blog = await open({ colorScheme: scheme, bypassCSP: true });
    await blog.goto(`${base}/`);
    await blog.locator(`#${recent} section.rally-pledge`).waitFor();
    await blog.waitForFunction(() => [...document.querySelectorAll('[data-comments]')].every((d) => d.querySelector('.rally-thread')));
    for (const v of await audit(blog)) found.push({ page: 'demo blog', scheme, ...v });
    await blog.context().close();
  }
  assert.deepEqual(found, []);
});

test('the console is usable 360 px wide: nothing scrolls sideways', async () => {
  for (const hash of ['#/queue', '#/posts', '#/petitions/stop-the-repatriations', '#/posts/new']) {
    const page = await console_(hash, { viewport: { width: 360, height: 800 } });
    await settled(page);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `${hash} is ${width}px wide`);
    await page.context().close();
  }
});
