// The embed widget in a real headless Chromium (Debian's package, driven by
// playwright-core), against the local stack with its demo data. Run by `make test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startStack, launchBrowser, SHOTS } from './harness.mjs';

let stack, browser, base, endpoint, table;

before(async () => {
  ({ base, stack, endpoint, table } = await startStack());
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  stack?.kill('SIGINT');
});

async function blog(options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) foreign.push(r.url()); });
  page.dialogs = [];
  page.on('dialog', (d) => { page.dialogs.push(d.message()); d.dismiss(); });
  await page.goto(base + '/');
  await page.waitForSelector('#families-still-held-at-the-border .rally-thread');
  page.foreign = foreign;
  return page;
}

const recent = '#families-still-held-at-the-border';
const old = '#china-returns-31-refugees';

test('a reader reads the seeded threads, numbered, with the author badge', async () => {
  const page = await blog();
  await page.waitForSelector(`${old} .rally-thread`);
  const numbers = await page.locator(`${old} .rally-num`).allTextContents();
  assert.deepEqual(numbers.map((n) => n.trim()), ['#1', '#2', '#3', '#4', '#5']);
  const badge = page.locator(`${old} .rally-badge`);
  assert.equal(await badge.count(), 1);
  const reply = page.locator(`${old} .rally-c`, { has: page.locator('.rally-badge') });
  assert.equal(await reply.getAttribute('style'), '--depth:1');
  assert.match(await page.locator(`${old} .rally-closed`).textContent(), /not available on posts older than 60 days/);
  assert.equal(await page.locator(`${old} form`).count(), 0, 'no comment form on the closed post');
  assert.deepEqual(page.foreign, [], 'no third-party requests');
  await page.context().close();
});

test('a reader comments and replies, and sees the reply nested', async () => {
  const page = await blog();
  const form = page.locator(`${recent} section.rally-comments > form`);
  await form.getByLabel('Name', { exact: true }).fill('Browser reader');
  await form.getByLabel('Comment', { exact: true }).fill('Signed, and *shared* with friends.');
  await form.getByRole('button', { name: 'Post comment' }).click();
  const mine = page.locator(`${recent} .rally-c`, { hasText: 'Browser reader' });
  await mine.waitFor();
  assert.equal(await mine.locator('em').textContent(), 'shared');
  await mine.getByRole('button', { name: 'Reply' }).click();
  const replyForm = mine.locator('form');
  await replyForm.getByLabel('Name', { exact: true }).fill('Second reader');
  await replyForm.getByLabel('Comment', { exact: true }).fill('Me too.');
  await replyForm.getByRole('button', { name: 'Reply' }).click();
  const reply = page.locator(`${recent} .rally-c`, { hasText: 'Second reader' });
  await reply.waitFor();
  assert.equal(await reply.getAttribute('style'), '--depth:1');
  assert.equal(await mine.getByRole('button', { name: 'Edit' }).count(), 1, 'the author may edit within the window');
  await page.context().close();
});

test('a reader asks for replies by mail, confirms, and is mailed the reply with one-click unsubscribe', async () => {
  const page = await blog();
  const form = page.locator(`${recent} section.rally-comments > form`);
  await form.getByLabel('Name', { exact: true }).fill('Asking reader');
  await form.getByLabel('Email (optional, never shown)').fill('asking.browser@example.org');
  await form.getByLabel(/Mail me replies/).check();
  await form.getByLabel('Comment', { exact: true }).fill('Does anyone know a lawyer there?');
  await form.getByRole('button', { name: 'Post comment' }).click();
  const mine = page.locator(`${recent} .rally-c`, { hasText: 'Asking reader' });
  await mine.waitFor();
  const optin = (await (await fetch(base + '/_dev/outbox')).json()).items.find((m) => m.to === 'asking.browser@example.org');
  assert.ok(optin, 'one mail asks the address to confirm');
  // The link opens a page whose button confirms.
  const confirm = await page.context().newPage();
  await confirm.goto(optin.links[0]);
  await confirm.getByRole('button', { name: 'Yes, mail me replies' }).click();
  await confirm.getByText('Done: replies to your comments will be mailed to you.').waitFor();
  await confirm.close();
  await mine.getByRole('button', { name: 'Reply' }).click();
  await mine.locator('form').getByLabel('Name', { exact: true }).fill('Helpful reader');
  await mine.locator('form').getByLabel('Comment', { exact: true }).fill('Yes: write to the bar association.');
  await mine.locator('form').getByRole('button', { name: 'Reply' }).click();
  await page.locator(`${recent} .rally-c`, { hasText: 'Helpful reader' }).waitFor();
  const mails = (await (await fetch(base + '/_dev/outbox')).json()).items.filter((m) => m.to === 'asking.browser@example.org');
  assert.equal(mails.length, 2);
  assert.match(mails[0].text, /Helpful reader replied/);
  assert.equal(mails[0].headers['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
  assert.match(mails[0].headers['List-Unsubscribe'], /^<http:\/\/127\.0\.0\.1:\d+\/unsubscribe\/[0-9a-f]{64}\.[0-9a-f]{32}>$/);
  await page.context().close();
});

test('a reader fixes a typo, then deletes the comment, with the token kept in the browser', async () => {
  const page = await blog();
  const form = page.locator(`${recent} section.rally-comments > form`);
  await form.getByLabel('Name', { exact: true }).fill('Typo reader');
  await form.getByLabel('Comment', { exact: true }).fill('Teh petition is open');
  await form.getByRole('button', { name: 'Post comment' }).click();
  const mine = page.locator(`${recent} .rally-c`, { hasText: 'Typo reader' });
  await mine.waitFor();
  await page.reload();
  await mine.getByRole('button', { name: 'Edit' }).click();
  const edit = mine.locator('form');
  await edit.getByLabel('Comment', { exact: true }).fill('The petition is open');
  await edit.getByRole('button', { name: 'Save' }).click();
  await page.locator(`${recent} .rally-c`, { hasText: 'The petition is open' }).waitFor();
  await page.locator(`${recent} .rally-c`, { hasText: 'Typo reader' }).getByRole('button', { name: 'Delete' }).click();
  await page.locator(`${recent} .rally-c`, { hasText: 'Typo reader' }).waitFor({ state: 'detached' });
  await page.context().close();
});

test('the XSS corpus typed into the form runs nothing', async () => {
  const page = await blog();
  const payloads = ['<img src=x onerror=alert(1)>', '<script>alert(2)</script>', '[x](javascript:alert(3))', '<svg onload=alert(4)>'];
  for (const [i, payload] of payloads.entries()) {
    const form = page.locator(`${recent} section.rally-comments > form`);
    await form.getByLabel('Name', { exact: true }).fill(`xss-${i}-"><b>bold</b>`);
    await form.getByLabel('Comment', { exact: true }).fill(payload);
    await form.getByRole('button', { name: 'Post comment' }).click();
    await page.locator(`${recent} .rally-c`, { hasText: `xss-${i}` }).waitFor();
  }
  await page.locator(`${recent} .rally-c a`, { hasText: 'x' }).first().click().catch(() => {});
  await page.waitForTimeout(300);
  assert.deepEqual(page.dialogs, [], 'no alert ran');
  assert.equal(await page.locator(`${recent} .rally-body script, ${recent} .rally-body img, ${recent} .rally-body svg, ${recent} .rally-meta b b`).count(), 0);
  await page.context().close();
});

test('a reader signs the petition, confirms from the mail, and the count rises by one', async () => {
  const page = await blog();
  const petition = page.locator(`${recent} section.rally-petition`);
  const before = Number((await petition.locator('.rally-count').textContent()).split(' ')[0].replace(/\D/g, ''));
  await petition.getByLabel('Name', { exact: true }).fill('Ji-woo');
  await petition.getByLabel('Email', { exact: true }).fill('jiwoo.browser@example.org');
  await petition.getByLabel('Show my name publicly').check();
  await petition.getByLabel(/I agree/).check();
  await petition.getByRole('button', { name: 'Sign the petition' }).click();
  await petition.getByText('Check your mail').waitFor();
  const outbox = await (await fetch(base + '/_dev/outbox')).json();
  const mail = outbox.items.find((m) => m.to === 'jiwoo.browser@example.org');
  const confirm = await page.context().newPage();
  await confirm.goto(mail.links[0]);
  // The page shows what the signature will say, and asks again before showing it.
  assert.equal(await confirm.getByLabel('Name', { exact: true }).inputValue(), 'Ji-woo');
  const show = confirm.getByLabel(/public list/);
  assert.equal(await show.isChecked(), false, 'public is never ticked in advance');
  await show.check();
  await confirm.getByRole('button', { name: 'Confirm my signature' }).click();
  await confirm.getByText('confirmed and counted').waitFor();
  await page.reload();
  const after = page.locator(`${recent} section.rally-petition .rally-count`);
  await after.waitFor();
  assert.equal(Number((await after.textContent()).split(' ')[0].replace(/\D/g, '')), before + 1);
  assert.ok((await page.locator(`${recent} .rally-signers`).textContent()).includes('Ji-woo'));
  await page.context().close();
});

test('a reader pledges with the keyboard alone and sees the total change', async () => {
  const page = await blog();
  const pledge = page.locator(`${recent} section.rally-pledge`);
  const totalBefore = await pledge.locator('.rally-count').textContent();
  await pledge.getByLabel('Name', { exact: true }).focus();
  await page.keyboard.type('Keyboard reader');
  await page.keyboard.press('Tab');
  await page.keyboard.type('keys@example.org');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('5');
  // Past "show my name" and "mail me the organiser's updates", to the consent box.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  assert.equal(await pledge.getByRole('button', { name: 'Pledge' }).count(), 1);
  await pledge.getByText('Check your mail').waitFor();
  const outbox = await (await fetch(base + '/_dev/outbox')).json();
  const link = outbox.items.find((m) => m.to === 'keys@example.org').links[0];
  const token = link.split('/').pop();
  assert.equal((await fetch(`${base}/confirm/${token}`, { method: 'POST' })).status, 200);
  await page.reload();
  const totalAfter = page.locator(`${recent} section.rally-pledge .rally-count`);
  await totalAfter.waitFor();
  assert.notEqual(await totalAfter.textContent(), totalBefore);
  assert.match(await totalAfter.textContent(), /\$17 pledged/);
  await page.context().close();
});

test('a long thread shows its first page, then the rest behind "Show more"', async () => {
  const slug = 'long-thread';
  const headers = { 'Content-Type': 'application/json', Authorization: 'Bearer browser-admin' };
  const post = { slug, title: 'Long', body: 'B', author: 'Min-jun' };
  assert.equal((await fetch(`${base}/posts`, { method: 'POST', headers, body: JSON.stringify(post) })).status, 201);
  for (let i = 1; i <= 105; i++) {
    const body = JSON.stringify({ author: `Reader ${i}`, body: `Comment number ${i}` });
    const r = await fetch(`${base}/posts/${slug}/comments`, { method: 'POST', headers, body });
    assert.equal(r.status, 201);
  }
  // The demo blog, once its widgets are drawn, with one more post embedded by a second
  // copy of the script: its thread of 105 comments.
  const page = await blog();
  await page.evaluate((slug) => {
    const el = document.createElement('div');
    el.id = 'long';
    el.setAttribute('data-comments', slug);
    document.body.append(el);
    const s = document.createElement('script');
    s.src = '/embed.js';
    s.setAttribute('data-api', location.origin);
    document.body.append(s);
  }, slug);
  const items = page.locator('#long .rally-c');
  await page.locator('#long .rally-thread').waitFor();
  assert.equal(await items.count(), 100);
  await page.locator('#long').getByRole('button', { name: 'Show more comments' }).click();
  await page.locator('#long .rally-c', { hasText: 'Reader 105' }).waitFor();
  assert.equal(await items.count(), 105);
  assert.equal(await page.locator('#long').getByRole('button', { name: 'Show more comments' }).count(), 0);
  await page.context().close();
});

test('edit tokens leave the browser when their 15 minutes end', async () => {
  const page = await blog();
  const kept = await page.evaluate(() => {
    const now = Date.now();
    localStorage.setItem('rally-tokens', JSON.stringify({ OLD: { t: 'old', at: now - 16 * 60 * 1000 }, NEW: { t: 'new', at: now - 60 * 1000 } }));
    return localStorage.getItem('rally-tokens');
  });
  assert.ok(kept.includes('OLD'));
  await page.reload();
  await page.waitForSelector(`${recent} .rally-thread`);
  const left = JSON.parse(await page.evaluate(() => localStorage.getItem('rally-tokens')));
  assert.deepEqual(Object.keys(left), ['NEW']);
  await page.context().close();
});

test('screenshots of every widget in light and dark mode', async () => {
  for (const scheme of ['light', 'dark']) {
    const page = await blog({ colorScheme: scheme, viewport: { width: 900, height: 1200 } });
    await page.waitForSelector(`${recent} section.rally-pledge`);
    for (const [name, selector] of [['comments', `${recent} section.rally-comments`], ['petition', `${recent} section.rally-petition`], ['pledge', `${recent} section.rally-pledge`]]) {
      const shot = await page.locator(selector).screenshot({ path: `${SHOTS}${name}-${scheme}.png` });
      assert.ok(shot.length > 1000, `${name} ${scheme} rendered`);
    }
    const background = await page.locator(`${recent} section.rally-comments`).evaluate((e) => getComputedStyle(e).backgroundColor);
    assert.equal(background, scheme === 'dark' ? 'rgb(27, 27, 31)' : 'rgb(255, 255, 255)');
    await page.context().close();
  }
});

test('a WordPress export imported with `rally` shows on the demo blog, nested and numbered', async () => {
  assert.ok(process.env.RALLY_BIN, 'RALLY_BIN names the rally binary (make test sets it)');
  const fixture = new URL('../fixtures/import/wordpress.xml', import.meta.url).pathname;
  const run = spawnSync(process.env.RALLY_BIN, ['--quiet', '--endpoint', endpoint, '--table', table, 'import', 'wordpress', fixture], { encoding: 'utf8' });
  // 2: done, and the summary names what was skipped (a reply to a comment the export lacks).
  assert.equal(run.status, 2, run.stderr + run.stdout);
  assert.match(run.stdout, /IP addresses dropped/);
  assert.match(run.stdout, /comment 209 \(wordpress#209\) answers wordpress#999/);
  const page = await blog();
  const zoe = page.locator(`${recent} .rally-c`, { hasText: 'Thank you for following this up' });
  await zoe.waitFor();
  assert.equal(await zoe.getAttribute('style'), '--depth:0');
  assert.match((await zoe.locator('.rally-num').first().textContent()).trim(), /^#\d+$/);
  const reply = page.locator(`${recent} .rally-c`, { hasText: 'Please share it' });
  assert.equal(await reply.getAttribute('style'), '--depth:1');
  const deeper = page.locator(`${recent} .rally-c`, { hasText: 'Shared it with my reading group' });
  assert.equal(await deeper.getAttribute('style'), '--depth:2');
  const old = page.locator('#chuseok-for-beginners .rally-c', { hasText: 'Songpyeon recipe' });
  await old.waitFor();
  assert.equal((await old.locator('.rally-num').textContent()).trim(), '#1');
  assert.equal(await page.locator(`${recent} .rally-c`, { hasText: 'Buy now' }).count(), 0, 'spam stays out');
  await page.context().close();
});
