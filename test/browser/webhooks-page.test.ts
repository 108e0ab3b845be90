/**
 * The Webhooks page of the web app (SPEC §8 "Webhooks and API keys", §9 outbound events) in
 * headless Chromium against the running service, with a real subscriber on loopback.
 */
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import { eventually } from '../support/conversation-harness';
import { EventReceiver } from '../support/event-receiver';
import { type ServiceUnderTest, startServiceUnderTest } from '../support/running-service';
import { OUTBOUND_EVENT_TYPES } from '../../workflows/rules/vocabulary';
import { assertAccessible, axeReport, buildWebAppQuietly, launchBrowser, newPage, screenshot, signIn } from './browser-support';

const ADMIN = { login: 'hook-admin', password: 'hook-admin-password-1234' };
const SECRET = 'ui-typed-secret-0123456789';
const GONE_SECRET = 'gone-secret-0123456789abc';
const PAGE_PATH = '/webhook-subscriptions';

describe('the Webhooks page (SPEC §8, §9) in headless Chromium against the running service', function () {
  this.timeout(180_000);
  let s: ServiceUnderTest;
  let browser: Browser;
  let receiver: EventReceiver;
  let desktop: Page;
  const screenshots: string[] = [];

  async function apiOk(method: string, p: string, body?: unknown) {
    const r = await s.api(method, p, body);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${p} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** The text of the error Mantine ties to a field through aria-describedby. */
  async function fieldError(page: Page, field: Locator): Promise<string> {
    const describedBy = (await field.getAttribute('aria-describedby')) ?? '';
    const errorId = describedBy.split(' ').find((id) => id.includes('error'));
    assert.ok(errorId, `the field points at its error (aria-describedby="${describedBy}")`);
    return (await page.locator(`[id="${errorId}"]`).innerText()).trim();
  }

  const card = (page: Page, id: string) => page.getByRole('listitem', { name: id, exact: true });

  before(async () => {
    receiver = await new EventReceiver().start();
    await buildWebAppQuietly();
    s = await startServiceUnderTest();
    browser = await launchBrowser();
    await apiOk('PUT', `/users/${ADMIN.login}`, { role: 'admin', name: 'Hook Admin', password: ADMIN.password });
    desktop = (await newPage(browser, s.baseUrl, 1280, 900)).page;
    await signIn(desktop, ADMIN.login, ADMIN.password);
  });

  after(async () => {
    console.log(
      `      axe (serious+critical / all violations): ${Object.entries(axeReport)
        .map(([p, r]) => `${p} ${r.serious}/${r.total}`)
        .join(', ')}`,
    );
    if (screenshots.length) console.log(`      screenshots: ${screenshots.join(', ')}`);
    await browser?.close();
    await s?.stop();
    await receiver?.stop();
  });

  let lastPage: Page | null = null;
  beforeEach(() => {
    lastPage = desktop;
  });
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && lastPage && !lastPage.isClosed()) {
      const file = `/tmp/inbox-autopilot-webhooks-failure-${Date.now()}.png`;
      await lastPage.screenshot({ path: file }).catch(() => undefined);
      console.log(`      failure screenshot: ${file} at ${lastPage.url()}`);
    }
  });

  it('when an admin follows the Webhooks link, then the page explains signing and retries and offers every event type, with no serious axe violation', async () => {
    const p = desktop;
    await p.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Webhooks' }).click();
    await p.getByRole('heading', { name: 'Webhooks', level: 2 }).waitFor();
    assert.equal(new URL(p.url()).pathname, PAGE_PATH);
    await p.mouse.move(800, 850); // not hovering the link it clicked
    const help = await p.getByRole('region', { name: 'How deliveries are signed and retried' }).innerText();
    assert.match(help, /X-Autopilot-Signature: sha256=<hex>/);
    assert.match(help, /"<timestamp>\.<body>"/);
    assert.match(help, /exponential backoff/);
    assert.match(help, /24 hours/);
    assert.match(help, /410 Gone/);
    await p.getByText('No subscription yet').waitFor();
    await assertAccessible(p, 'webhooks (empty)');

    // A deep link (and a reload) opens the page too.
    await p.goto(PAGE_PATH);
    await p.getByRole('heading', { name: 'Webhooks', level: 2 }).waitFor();

    await p.getByRole('button', { name: 'New subscription' }).click();
    const form = p.getByRole('dialog', { name: 'New subscription' });
    const types = form.getByRole('group', { name: 'Event types' }).getByRole('checkbox');
    const values = await Promise.all((await types.all()).map((t) => t.getAttribute('value')));
    assert.deepEqual(values.slice(1), [...OUTBOUND_EVENT_TYPES], 'a checkbox per event type, after the "all" shortcut');
    // The "all" shortcut, with the keyboard: Space checks every type, again clears them.
    const all = form.getByRole('checkbox', { name: 'All event types' });
    await all.focus();
    await p.keyboard.press('Space');
    assert.equal(
      await form.getByRole('group', { name: 'Event types' }).locator('input[type=checkbox]:checked').count(),
      OUTBOUND_EVENT_TYPES.length + 1,
    );
    await p.keyboard.press('Space');
    assert.equal(await form.getByRole('group', { name: 'Event types' }).locator('input[type=checkbox]:checked').count(), 0);
    await assertAccessible(p, 'webhooks (form)');
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'detached' });
  });

  it('when a subscription with a bad URL is saved, then the server’s message shows next to the URL field and nothing is saved', async () => {
    const p = desktop;
    await p.getByRole('button', { name: 'New subscription' }).click();
    const form = p.getByRole('dialog', { name: 'New subscription' });
    await form.getByLabel(/^Id/).fill('ui-hook');
    const url = form.getByLabel(/^URL/);
    await url.fill('http://example.com/x');
    await form.getByLabel(/^Secret/).fill(SECRET);
    // No event type yet either: each refused field shows its own message.
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByRole('alert').filter({ hasText: 'Not saved' }).waitFor();
    await form.getByRole('group', { name: 'Event types' }).getByText('must name at least one event type').waitFor();
    assert.equal(await url.getAttribute('aria-invalid'), 'true');
    screenshots.push(await screenshot(p, 'webhooks-refused'));
    await form.getByRole('checkbox', { name: 'agent.status' }).check();
    await form.getByRole('button', { name: 'Save' }).click();
    await eventually(
      async () =>
        (await form.getByRole('group', { name: 'Event types' }).getByText('must name at least one event type').count()) === 0 &&
        (await url.getAttribute('aria-invalid')) === 'true',
      5000,
      'the second answer: the URL still refused, the event types now accepted',
    );

    const server = await s.api('PUT', '/webhooks/probe', { url: 'http://example.com/x', secret: SECRET, events: ['agent.status'] });
    assert.equal(server.status, 400);
    const serverMessage = (server.body.error.details as { field: string; message: string }[]).find((d) => d.field === 'url')!.message;
    assert.equal(await fieldError(p, url), serverMessage);
    assert.equal(await url.getAttribute('aria-invalid'), 'true');
    assert.match(await form.getByRole('alert').innerText(), /Nothing was changed/);
    assert.deepEqual((await apiOk('GET', '/webhooks')).webhooks, [], 'nothing was saved');
  });

  it('when the form is corrected for agent.status and the subscriber answers 500 then 200, then the delivery log shows the retry and then the delivery', async () => {
    const p = desktop;
    receiver.respond('/ui', (_d, earlier) => (earlier < 1 ? 500 : 200));
    const form = p.getByRole('dialog', { name: 'New subscription' });
    await form.getByLabel(/^URL/).fill(`${receiver.url}/ui`);
    await form.getByRole('button', { name: 'Save' }).click();
    await form.waitFor({ state: 'detached' });
    await p.getByRole('status').filter({ hasText: 'Created subscription ui-hook.' }).waitFor();
    const saved = await apiOk('GET', '/webhooks/ui-hook');
    assert.deepEqual(
      { url: saved.url, events: saved.events, phoneNumberIds: saved.phoneNumberIds, enabled: saved.enabled },
      { url: `${receiver.url}/ui`, events: ['agent.status'], phoneNumberIds: null, enabled: true },
    );
    const listed = await card(p, 'ui-hook').innerText();
    assert.match(listed, /Enabled/i);
    assert.match(listed, /agent\.status/);
    assert.match(listed, /all numbers/);

    await apiOk('PUT', '/agents/x', { name: 'X', receptionLimit: 1, status: 'offline' });
    const [first, second] = await eventually(async () => (receiver.at('/ui').length >= 2 ? receiver.at('/ui') : null), 30_000, 'the retry');
    assert.equal(first.event.type, 'agent.status');
    assert.equal(second.event.id, first.event.id);
    assert.ok(EventReceiver.verifies(second, SECRET), 'signed with the secret typed in the form');

    await card(p, 'ui-hook').getByRole('button', { name: 'Delivery log of ui-hook' }).click();
    const drawer = p.getByRole('dialog', { name: 'Delivery log: ui-hook' });
    const rows = drawer.getByRole('table', { name: 'Delivery attempts' }).locator('tbody tr');
    // The log row is written once the attempt's answer is recorded: refresh until both show.
    await eventually(
      async () => {
        if ((await rows.count()) >= 2) return true;
        await drawer.getByRole('button', { name: 'Refresh' }).click();
        await p.waitForTimeout(250);
        return false;
      },
      15_000,
      'two attempts in the log',
    );
    const cells = async (row: Locator) => (await row.locator('td').allTextContents()).map((t) => t.trim());
    const headers = (await drawer.locator('thead th').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(headers, ['Time', 'Event type', 'Event id', 'Attempt', 'HTTP status', 'Latency (ms)', 'Outcome']);
    const [newest, oldest] = [await cells(rows.nth(0)), await cells(rows.nth(1))];
    assert.deepEqual(newest.slice(1, 5), ['agent.status', first.event.id, '2', '200']);
    assert.equal(newest[6], 'delivered');
    assert.deepEqual(oldest.slice(1, 5), ['agent.status', first.event.id, '1', '500']);
    assert.equal(oldest[6], 'retry');
    assert.match(newest[5], /^\d+$/, 'latency in ms');
    assert.equal(await rows.nth(0).getAttribute('data-outcome'), 'delivered');
    assert.equal(await drawer.getByRole('button', { name: 'Load older' }).count(), 0, 'two attempts: one page');
    await assertAccessible(p, 'webhooks (delivery log)');
    screenshots.push(await screenshot(p, 'webhooks-log'));
    await p.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });
  });

  it('when the log is longer than a page, then "Load older" appends the older attempts from nextCursor', async () => {
    const p = desktop;
    // 51 more attempts: one agent.status event per status change, each delivered at once.
    receiver.respond('/ui', () => 200);
    for (let i = 0; i < 51; i++) await apiOk('PUT', '/agents/x', { name: 'X', receptionLimit: 1, status: i % 2 ? 'offline' : 'online' });
    const t0 = Date.now();
    await eventually(async () => receiver.at('/ui').length >= 53, 30_000, '53 deliveries').catch((e: Error) => {
      throw new Error(`${e.message}: ${receiver.at('/ui').length} after ${Date.now() - t0} ms`);
    });
    await eventually(async () => (await apiOk('GET', '/webhooks/ui-hook/deliveries?limit=200')).deliveries.length >= 53, 10_000, '53 log rows');
    await card(p, 'ui-hook').getByRole('button', { name: 'Delivery log of ui-hook' }).click();
    const drawer = p.getByRole('dialog', { name: 'Delivery log: ui-hook' });
    const rows = drawer.getByRole('table', { name: 'Delivery attempts' }).locator('tbody tr');
    await drawer.getByRole('status').filter({ hasText: '50 attempts shown' }).waitFor();
    await drawer.getByRole('button', { name: 'Load older' }).click();
    await drawer.getByRole('status').filter({ hasText: '53 attempts shown' }).waitFor();
    assert.equal(await rows.count(), 53);
    assert.equal(await drawer.getByRole('button', { name: 'Load older' }).count(), 0);
    const last = (await rows.nth(52).locator('td').allTextContents()).map((t) => t.trim());
    assert.deepEqual([last[3], last[4], last[6]], ['1', '500', 'retry'], 'the oldest attempt comes last');
    await p.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });
  });

  it('when a subscriber answers 410, then its card shows why it is disabled, a save without the secret is refused, and saving with Enabled on re-enables it', async () => {
    const p = desktop;
    receiver.respond('/gone', () => 410);
    await apiOk('PUT', '/webhooks/crm', {
      url: `${receiver.url}/gone`,
      secret: GONE_SECRET,
      events: ['agent.status', 'conversation.closed'],
      phoneNumberIds: ['106540352242922'],
    });
    await apiOk('PUT', '/agents/y', { name: 'Y', receptionLimit: 1, status: 'offline' });
    await eventually(async () => (await apiOk('GET', '/webhooks/crm')).enabled === false, 30_000, 'the 410 to disable crm');

    await p.reload();
    const crm = card(p, 'crm');
    await crm.getByText('Disabled: the subscriber answered 410 Gone').waitFor();
    assert.match(await crm.innerText(), /106540352242922/);
    await assertAccessible(p, 'webhooks (list)');
    screenshots.push(await screenshot(p, 'webhooks'));

    await crm.getByRole('button', { name: 'Edit crm' }).click();
    const form = p.getByRole('dialog', { name: 'Edit crm' });
    assert.equal(await form.getByLabel(/^Id/).count(), 0, 'the id is fixed once created');
    assert.equal(await form.getByLabel(/^URL/).inputValue(), `${receiver.url}/gone`);
    assert.equal(await form.getByLabel(/^Numbers/).inputValue(), '106540352242922');
    assert.equal(await form.getByRole('checkbox', { name: 'conversation.closed' }).isChecked(), true);
    const secret = form.getByLabel(/^Secret \(enter it again\)/);
    assert.equal(await secret.inputValue(), '', 'the secret is never shown back');
    assert.match(await form.innerText(), /Required on every save: the secret is never shown back/);
    const enabled = form.getByRole('switch', { name: 'Enabled' });
    assert.equal(await enabled.isChecked(), false);
    await enabled.check({ force: true });
    screenshots.push(await screenshot(p, 'webhooks-edit'));

    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByRole('alert').filter({ hasText: 'Not saved' }).waitFor();
    assert.equal(await fieldError(p, secret), 'must be at least 16 characters');
    assert.equal((await apiOk('GET', '/webhooks/crm')).enabled, false, 'nothing was saved');

    receiver.respond('/gone', () => 200);
    await secret.fill(GONE_SECRET);
    await form.getByRole('button', { name: 'Save' }).click();
    await form.waitFor({ state: 'detached' });
    const after = await apiOk('GET', '/webhooks/crm');
    assert.deepEqual([after.enabled, after.disabledReason], [true, null]);
    await crm.getByText('Enabled', { exact: true }).waitFor();
    assert.equal(await crm.getByText(/^Disabled/).count(), 0);
  });

  it('when the page is opened at a phone’s width (390 px), then nothing scrolls sideways, every control is in view, and the log and form fit', async () => {
    const { page: phone } = await newPage(browser, s.baseUrl, 390, 844);
    lastPage = phone;
    await signIn(phone, ADMIN.login, ADMIN.password);
    await phone.goto(PAGE_PATH);
    const ui = card(phone, 'ui-hook');
    await ui.waitFor();
    assert.equal(await phone.evaluate('document.documentElement.scrollWidth <= 390'), true, 'no horizontal scroll at 390 px');
    for (const button of await phone.getByRole('main').getByRole('button').all()) {
      const box = await button.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${await button.innerText()} is within the screen`);
    }
    await assertAccessible(phone, 'webhooks (390 px)');
    screenshots.push(await screenshot(phone, 'webhooks-phone', true));

    await ui.getByRole('button', { name: 'Delivery log of ui-hook' }).click();
    const drawer = phone.getByRole('dialog', { name: 'Delivery log: ui-hook' });
    // One block per attempt, newest first, with its outcome and HTTP status in view.
    const attempts = drawer.getByRole('list', { name: 'Delivery attempts' }).getByRole('listitem');
    await attempts.first().waitFor();
    assert.equal(await drawer.getByRole('table').count(), 0, 'no seven-column table at 390 px');
    assert.match(await attempts.first().innerText(), /delivered[\s\S]*HTTP 200[\s\S]*agent\.status · attempt 1 · \d+ ms/i);
    for (const item of (await attempts.all()).slice(0, 5)) {
      const box = await item.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, 'each attempt fits the screen');
    }
    for (const name of ['Refresh', 'Load older', 'Close the delivery log']) {
      const box = await drawer.getByRole('button', { name }).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${name} is within the screen`);
    }
    await assertAccessible(phone, 'webhooks log (390 px)');
    screenshots.push(await screenshot(phone, 'webhooks-log-phone'));
    await phone.keyboard.press('Escape');
    await drawer.waitFor({ state: 'hidden' });

    await phone.getByRole('button', { name: 'New subscription' }).click();
    const form = phone.getByRole('dialog', { name: 'New subscription' });
    await form.getByRole('button', { name: 'Save' }).waitFor();
    for (const button of await form.getByRole('button').all()) {
      await button.scrollIntoViewIfNeeded();
      const box = await button.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${await button.innerText()} is within the screen`);
    }
    screenshots.push(await screenshot(phone, 'webhooks-form-phone'));
    await phone.context().close();
    lastPage = desktop;
  });

  it('when an admin deletes a subscription with the keyboard, then a confirmation asks first and Delete removes it', async () => {
    const p = desktop;
    const del = card(p, 'ui-hook').getByRole('button', { name: 'Delete ui-hook' });
    await del.focus();
    await p.keyboard.press('Enter');
    const confirm = p.getByRole('dialog', { name: 'Delete subscription ui-hook?' });
    await confirm.waitFor();
    // Cancel first: nothing is deleted.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    assert.equal((await s.api('GET', '/webhooks/ui-hook')).status, 200);

    await del.focus();
    await p.keyboard.press('Enter');
    await confirm.waitFor();
    assert.equal(
      await confirm.getByRole('button', { name: 'Cancel' }).evaluate((el) => el === el.ownerDocument.activeElement),
      true,
      'focus starts on Cancel',
    );
    await p.keyboard.press('Tab');
    assert.equal(await confirm.getByRole('button', { name: 'Delete' }).evaluate((el) => el === el.ownerDocument.activeElement), true);
    await p.keyboard.press('Enter');
    await confirm.waitFor({ state: 'detached' });
    await p.getByRole('status').filter({ hasText: 'Deleted subscription ui-hook.' }).waitFor();
    await card(p, 'ui-hook').waitFor({ state: 'detached' });
    assert.equal((await s.api('GET', '/webhooks/ui-hook')).status, 404);
    assert.deepEqual(
      (await apiOk('GET', '/webhooks')).webhooks.map((w: { id: string }) => w.id),
      ['crm'],
    );
  });
});
