// The operator console in a real browser (Debian's Chromium via playwright-core) against a real
// `syncctl start` with the Shopify and WooCommerce simulators: login, a conflict from concurrent
// price edits resolved from the page until both channels hold the chosen price, a dead letter
// replayed after its cause was fixed, and the refusals (no session, cross-site POST, public listener).
import { strict as assert } from 'node:assert';
import { execSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { startRig, simControl, skuOf, type Rig } from '../daemon/support/rig.js';
import { startDaemonProcess, type DaemonProcess } from '../daemon/support/process.js';
import { launchBrowser, screenshotDir } from '../support/browser.js';
import { REPO_ROOT } from '../support/cli.js';
import { eventually } from '../support/wait.js';

const TOKEN = 'console-test-admin-token-0123456789';

describe('Operator console in a browser (syncctl start + simulators + Chromium)', function () {
  this.timeout(300_000);
  let rig: Rig;
  let daemon: DaemonProcess;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  let shots: string;
  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  /** The price Shopify's Admin API gives for a SKU (the simulator's real GraphQL endpoint). */
  const shopifyPrice = async (sku: string): Promise<string | undefined> => {
    const r = await fetch(rig.shop.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': rig.shop.info.accessToken! },
      body: JSON.stringify({ query: `{ productVariants(first: 1, query: "sku:${sku}") { nodes { sku price } } }` }),
    });
    const j = (await r.json()) as { data?: { productVariants: { nodes: Array<{ price: string }> } } };
    return j.data?.productVariants.nodes[0]?.price;
  };
  const wooProduct = async (sku: string) => (await simControl(rig.woo.get('a')!.info.controlUrl, 'GET', `/products?sku=${sku}`))[0] as { regular_price: string; stock_quantity: number };

  before(async () => {
    execSync('npm run build --silent', { cwd: REPO_ROOT, stdio: 'ignore' });
    shots = screenshotDir();
    rig = await startRig('console', {
      skus: 3,
      woo: { a: { buffer: 0 } },
      initial: 20,
      overrides: {
        http: { admin: { token: TOKEN } },
        console: { refreshSeconds: 1 },
        // Price edits wait for an operator; a long settle window so no correction races the replay.
        sync: { fieldPolicies: { price: 'manual', title: 'ignore', status: 'ignore' } },
        daemon: { settleSeconds: 120 },
        retry: { retries: 2, initialDelayMs: 100, maxDelayMs: 300 },
      },
    });
    // The simulators' catalogs price SKUs differently, which a manual policy would hold as
    // conflicts from the first poll: agree on the prices before the daemon sees them.
    for (const sku of rig.skus) {
      await simControl(rig.shop.info.controlUrl, 'PATCH', `/variants/${encodeURIComponent(sku)}`, { price: '10.00' });
      await simControl(rig.woo.get('a')!.info.controlUrl, 'PUT', '/products', { sku, regular_price: '10.00' });
    }
    daemon = await startDaemonProcess(rig.configPath);
    browser = await launchBrowser();
    context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (d) => void d.accept());
  });
  after(async () => {
    await browser?.close();
    if (daemon) {
      daemon.kill('SIGTERM');
      await daemon.exited;
    }
    await rig?.close();
  });

  it('is not served on the public listener, and refuses requests without a session or the token', async () => {
    assert.equal((await fetch(`${daemon.url}/console`)).status, 404);
    assert.equal((await fetch(`${daemon.url}/console/login`)).status, 404);
    const html = await fetch(`${daemon.adminUrl}/console`, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(html.status, 303);
    assert.equal(html.headers.get('location'), '/console/login');
    assert.equal((await fetch(`${daemon.adminUrl}/console/api/live`)).status, 401);
    assert.equal((await fetch(`${daemon.adminUrl}/console/dlq`, { headers: { authorization: 'Bearer not-the-admin-token-at-all' } })).status, 401);
    const post = await fetch(`${daemon.adminUrl}/console/dlq/replay`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: daemon.adminUrl }, body: 'ids=00000000-0000-0000-0000-000000000000' });
    assert.equal(post.status, 401);
    const bearer = await fetch(`${daemon.adminUrl}/console/api/live`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(bearer.status, 200);
    assert.equal(typeof ((await bearer.json()) as { openConflicts: number }).openConflicts, 'number');
  });

  it('logs in with the admin token (and not with another) and shows the overview', async () => {
    await page.goto(`${daemon.adminUrl}/console`);
    assert.match(page.url(), /\/console\/login$/);
    await shot('01-login');
    await page.fill('#token', 'wrong-token-wrong-token');
    await page.click('button[type=submit]');
    assert.match(await page.locator('.error').innerText(), /not the admin token/);
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/console$/);
    assert.equal(await page.locator('h1').innerText(), 'Overview');
    const cookie = (await context.cookies(`${daemon.adminUrl}/console`)).find((c) => c.name === 'syncctl_console')!;
    assert.deepEqual([cookie.httpOnly, cookie.sameSite, cookie.path], [true, 'Strict', '/console']);
    assert.notEqual(cookie.value, TOKEN);
    // The sources of the rig, each with its poller's state.
    await eventually(async () => {
      await page.reload();
      const text = await page.locator('#sources').innerText();
      return text.includes('shopify:main') && text.includes('woocommerce:a') && text.includes('fresh');
    }, 'the overview listing both sources with fresh pollers', 60_000, 1000);
    await shot('02-overview');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot('02-overview-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    // Keyboard: "g" then "d" goes to the dead letters.
    await page.keyboard.press('g');
    await page.keyboard.press('d');
    await page.waitForURL(/\/console\/dlq$/);
  });

  let conflictId: string;
  const SKU = skuOf(1);

  it('shows the conflict of concurrent price edits with both values and timestamps', async () => {
    // Until both channels have been seen, a SKU is briefly an open UNMATCHED_SKU conflict: wait for them to match.
    await eventually(async () => (await rig.query(`select count(*)::int as n from conflict_log where status = 'OPEN'`))[0].n === 0, 'no open conflict before the edits', 60_000, 250);
    // The list is open before the conflict exists: its counters update without a reload.
    await page.goto(`${daemon.adminUrl}/console/conflicts`);
    assert.equal(await page.locator('tbody tr').innerText(), 'No conflict matches.');
    await simControl(rig.shop.info.controlUrl, 'PATCH', `/variants/${encodeURIComponent(SKU)}`, { price: '12.50' });
    await simControl(rig.woo.get('a')!.info.controlUrl, 'PUT', '/products', { sku: SKU, regular_price: '9.90' });
    const row = await eventually(async () => (await rig.query(`select conflict_id from conflict_log where entity_id = $1 and conflict_type = 'FIELD_CONFLICT' and status = 'OPEN'`, [SKU]))[0], 'an open price conflict', 60_000, 250);
    conflictId = row.conflict_id;
    await page.locator('header [data-live=openConflicts]', { hasText: /^1$/ }).waitFor({ timeout: 20_000 });
    assert.match(await page.locator('.notice').innerText(), /Open conflicts: 1.*changed since this page was loaded/);
    // Keyboard: "/" focuses the first filter field; typing and Enter submit the filter.
    await page.keyboard.press('/');
    await page.keyboard.press('Tab');
    await page.keyboard.type(SKU);
    await page.keyboard.press('Enter');
    await page.waitForURL(/entity=SKU-000001-1/);
    await page.goto(`${daemon.adminUrl}/console/conflicts?source=woocommerce:a`);
    const tr = page.locator('tbody tr', { hasText: SKU });
    await tr.first().waitFor();
    const text = await tr.first().innerText();
    assert.match(text, /FIELD_CONFLICT/);
    // Which two values disagree depends on the order the engine saw the edits in (the first edit
    // may be adopted, the second then conflicts with it): the page shows exactly the recorded ones.
    const values = (await rig.query(`select details->'values' as v from conflict_log where conflict_id = $1`, [conflictId]))[0].v as Array<{ source: string; value: string; at: string }>;
    assert.deepEqual(values.map((v) => v.source).sort(), ['shopify:main', 'woocommerce:a']);
    assert.ok(values.some((v) => v.value === '12.50' || v.value === '9.90'), JSON.stringify(values));
    for (const v of values) assert.ok(text.includes(`${v.source} "${v.value}" ${v.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`), `${text} shows ${JSON.stringify(v)}`);
    await shot('03-conflicts');
    // The copy button puts the whole id on the clipboard.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: daemon.adminUrl });
    await tr.first().locator('button.copy').click();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), conflictId);
  });

  it('refuses a cross-site POST (another origin, even with the session cookie) and one without the CSRF token', async () => {
    // A page on another port of the same host: same site, so the SameSite=Strict cookie goes along; the Origin check refuses it.
    const evil: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form method="post" action="${daemon.adminUrl}/console/conflicts/resolve"><input name="ids" value="${conflictId}"><input name="mode" value="value"><input name="value" value='"0.01"'><button id="go">go</button></form>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    try {
      const port = (evil.address() as { port: number }).port;
      const other = await context.newPage();
      await other.goto(`http://127.0.0.1:${port}/`);
      const [resp] = await Promise.all([other.waitForResponse((r) => r.url().endsWith('/console/conflicts/resolve')), other.click('#go')]);
      assert.equal(resp.status(), 403);
      assert.match(await other.locator('main').innerText(), /Refused/);
      await other.close();
    } finally {
      evil.close();
    }
    // Same origin, session cookie, but no CSRF token (what a forged same-site request would lack).
    const cookie = (await context.cookies(`${daemon.adminUrl}/console`)).find((c) => c.name === 'syncctl_console')!;
    const r = await fetch(`${daemon.adminUrl}/console/conflicts/resolve`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: daemon.adminUrl, cookie: `syncctl_console=${cookie.value}` },
      body: new URLSearchParams({ ids: conflictId, mode: 'value', value: '"0.01"' }).toString(),
    });
    assert.equal(r.status, 403);
    const still = await rig.query(`select status from conflict_log where conflict_id = $1`, [conflictId]);
    assert.equal(still[0].status, 'OPEN');
  });

  it('resolves the conflict with a value from its page and both channels converge to it', async () => {
    await page.goto(`${daemon.adminUrl}/console/conflicts/${conflictId}`);
    await shot('04-conflict');
    await page.fill('input[name=value][required]', '"15.00"');
    await page.fill('form.card input[name=note]', 'agreed with marketing');
    await page.click('form.card button[type=submit]');
    await page.waitForURL(/\/console\/conflicts\/resolve$/);
    const outcome = await page.locator('tr.outcome').innerText();
    assert.match(outcome, /USE_VALUE/);
    assert.match(outcome, /price = "15\.00"/);
    await shot('05-conflict-resolved');
    await eventually(async () => (await shopifyPrice(SKU)) === '15.00' && (await wooProduct(SKU)).regular_price === '15.00', 'both channels at 15.00', 60_000, 250);
    const row = (await rig.query(`select status, resolution, resolved_by, note from conflict_log where conflict_id = $1`, [conflictId]))[0];
    assert.deepEqual([row.status, row.resolution, row.note], ['RESOLVED', 'USE_VALUE', 'agreed with marketing']);
    assert.match(row.resolved_by, /^console@/);
  });

  it('shows the entity page of the SKU: state per instance, events, writes, the conflict', async () => {
    await page.goto(`${daemon.adminUrl}/console/entity?sku=${encodeURIComponent(SKU)}`);
    await page.waitForURL(new RegExp(`/console/entity/${SKU}$`));
    const text = await page.locator('main').innerText();
    for (const s of ['State per instance', 'shopify:main', 'woocommerce:a', 'Planned writes', 'Recent source events', conflictId.slice(0, 8)]) assert.ok(text.includes(s), `the entity page shows ${s}`);
    // Events of both channels, including WooCommerce's (found through the platform ids entity_map knows).
    const events = await page.locator('h2:has-text("Recent source events") + table tbody').innerText();
    assert.match(events, /shopify:main/);
    assert.match(events, /woocommerce:a/);
    await shot('06-entity');
  });

  it('replays a dead letter after its cause is fixed and reports it replayed', async () => {
    const sku = skuOf(2);
    const woo = rig.woo.get('a')!.info.controlUrl;
    await simControl(woo, 'PUT', '/faults', { throttlePercent: 100, throttleStatus: 503 });
    let dl: { dead_letter_id: string };
    try {
      await simControl(rig.shop.info.controlUrl, 'POST', '/inventory/set', { sku, quantity: 7 });
      dl = await eventually(async () => (await rig.query(`select dead_letter_id from dead_letters where sku = $1 and stage = 'write:woocommerce:a' and status = 'OPEN'`, [sku]))[0], 'a dead letter of the write to woocommerce:a', 90_000, 250);
    } finally {
      await simControl(woo, 'PUT', '/faults', { throttlePercent: 0 });
    }
    await page.goto(`${daemon.adminUrl}/console/dlq?source=woocommerce`);
    const tr = page.locator('tbody tr', { hasText: dl.dead_letter_id.slice(0, 8) });
    await tr.waitFor();
    assert.match(await tr.innerText(), /write:woocommerce:a/);
    await shot('07-dead-letters');
    await tr.locator(`a[href="/console/dlq/${dl.dead_letter_id}"]`).click();
    await page.waitForURL(new RegExp(`/console/dlq/${dl.dead_letter_id}$`));
    assert.match(await page.locator('main').innerText(), /Payload/);
    await shot('08-dead-letter');
    await page.click('button:has-text("Replay")');
    await page.waitForURL(/\/console\/dlq\/replay$/);
    const outcome = page.locator('tr.outcome [data-outcome]');
    assert.equal(await outcome.getAttribute('data-outcome'), 'replayed', await page.locator('tr.outcome').innerText());
    await shot('09-replayed');
    assert.equal((await wooProduct(sku)).stock_quantity, 7);
    assert.equal((await rig.query(`select status from dead_letters where dead_letter_id = $1`, [dl.dead_letter_id]))[0].status, 'REPLAYED');
  });
});
