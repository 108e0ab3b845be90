import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { connectClient } from '../../src/temporal/client';
import { eventually } from '../support/conversation-harness';
import { csatRowId } from '../../workflows/rules/conversation-machine';
import { type ApiReplica, type ServiceUnderTest, startApiReplica, startServiceUnderTest, textWebhook } from '../support/running-service';
import path from 'node:path';
import {
  SCREENSHOT_DIR,
  assertAccessible,
  axeReport,
  buildWebAppQuietly,
  launchBrowser,
  median,
  newPage,
  pageWeight,
  screenshot,
  signIn,
} from './browser-support';

const NUMBER = '106540352242922';
const ADMIN = { login: 'boss', password: 'boss-password-1234' };
const ALICE = { login: 'alice', password: 'alice-password-1234' };
const BOB = { login: 'bob', password: 'bob-password-12345' };

describe('the web app (SPEC §8) in headless Chromium against the running service', function () {
  this.timeout(180_000);
  let s: ServiceUnderTest;
  let browser: Browser;
  let wamids = 0;
  const screenshots: string[] = [];

  async function customerSays(from: string, body: string, name = `Customer ${from.slice(-4)}`): Promise<string> {
    const wamid = `wamid.WEB-${++wamids}-${Date.now()}`;
    const response = await s.postWebhook(textWebhook({ wamid, from, body, name }));
    assert.equal(response.status, 200);
    return wamid;
  }

  async function conversationOf(wamid: string): Promise<{ id: string; status: string; agent_id: string | null }> {
    const message = await eventually(
      () => s.db('messages').where({ wamid }).whereNotNull('conversation_id').first(),
      15_000,
      `conversation of ${wamid}`,
    );
    return s.db('conversations').where({ id: message.conversation_id }).first();
  }

  async function statusOf(id: string): Promise<string> {
    return (await s.db('conversations').where({ id }).first()).status;
  }

  async function apiOk(method: string, p: string, body?: unknown) {
    const r = await s.api(method, p, body);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${p} answered ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  }

  before(async () => {
    await buildWebAppQuietly();
    s = await startServiceUnderTest();
    browser = await launchBrowser();
    await apiOk('PUT', `/users/${ADMIN.login}`, { role: 'admin', name: 'Bea Boss', password: ADMIN.password });
    for (const [u, name] of [
      [ALICE, 'Alice'],
      [BOB, 'Bob'],
    ] as const) {
      await apiOk('PUT', `/agents/${u.login}`, { name, receptionLimit: u === ALICE ? 1 : 5, status: 'offline' });
      await apiOk('PUT', `/users/${u.login}`, { role: 'agent', name, password: u.password, agentId: u.login });
    }
  });

  after(async () => {
    const weight = pageWeight();
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    console.log(
      `      page weight (gzipped): first load JS ${kib(weight.initialJsGzip)} + CSS ${kib(weight.initialCssGzip)}; ` +
        `all pages JS ${kib(weight.jsGzip)} (${kib(weight.js)} raw) + CSS ${kib(weight.cssGzip)} (${kib(weight.css)} raw)`,
    );
    console.log(
      `      axe (serious+critical / all violations): ${Object.entries(axeReport)
        .map(([p, r]) => `${p} ${r.serious}/${r.total}`)
        .join(', ')}`,
    );
    if (screenshots.length) console.log(`      screenshots: ${screenshots.join(', ')}`);
    await browser?.close();
    await s?.stop();
  });

  let lastPage: Page | null = null;
  async function page(width?: number, height?: number): Promise<Page> {
    lastPage = (await newPage(browser, s.baseUrl, width, height)).page;
    return lastPage;
  }

  afterEach(async function () {
    // A failing test leaves what the browser showed, for whoever reads the failure.
    if (this.currentTest?.state === 'failed' && lastPage && !lastPage.isClosed()) {
      const file = `/tmp/inbox-autopilot-browser-failure-${Date.now()}.png`;
      await lastPage.screenshot({ path: file }).catch(() => undefined);
      console.log(`      failure screenshot: ${file} at ${lastPage.url()}`);
    }
  });

  it('when the web app is requested, then / and client routes serve the app while /api and /webhooks keep their JSON 404s', async () => {
    for (const p of ['/', '/inbox/mine', '/numbers/123/settings']) {
      const r = await fetch(`${s.baseUrl}${p}`);
      assert.equal(r.status, 200, p);
      assert.match(await r.text(), /<div id="root">/, p);
    }
    for (const p of ['/api/nope', '/webhooks/nope', '/healthz/nope']) {
      const r = await fetch(`${s.baseUrl}${p}`, { headers: { authorization: 'Bearer e2e-api-key' } });
      assert.notEqual(r.headers.get('content-type')?.includes('text/html'), true, `${p} must not fall back to the app`);
    }
  });

  it('when someone signs in with a wrong password, then an error shows, the sixth try is throttled, and the right password opens the inbox', async () => {
    const p = await page();
    await p.goto('/');
    await p.getByRole('heading', { name: 'Sign in to Inbox Autopilot' }).waitFor();
    await assertAccessible(p, 'sign-in');
    for (let i = 0; i < 5; i++) {
      await p.getByLabel('Login').fill(BOB.login);
      await p.getByLabel(/^Password/).fill(`wrong-password-${i}`);
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('alert').filter({ hasText: 'Wrong login or password.' }).waitFor();
      if (i === 0) screenshots.push(await screenshot(p, 'sign-in-error'));
    }
    await p.getByLabel(/^Password/).fill(BOB.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('alert').filter({ hasText: 'Too many failed attempts' }).waitFor();
    assert.equal(await p.getByRole('heading', { name: 'Inbox', exact: true }).count(), 0, 'a throttled login stays out even with the right password');

    // With the keyboard alone: type, Tab to the password, Enter submits.
    await p.getByLabel('Login').fill('');
    await p.getByLabel('Login').focus();
    await p.keyboard.type(ADMIN.login);
    await p.keyboard.press('Tab');
    await p.keyboard.press('Control+A');
    await p.keyboard.type(ADMIN.password);
    await p.keyboard.press('Enter');
    await p.getByRole('heading', { name: 'Inbox', exact: true }).waitFor();
    assert.match(await p.getByText('Signed in as').innerText(), /Bea Boss \(admin\)/);
    await p.context().close();
  });

  it('when an admin saves a refused value, then the server’s message shows at the field and nothing is saved; a valid value saves', async () => {
    const before = (await apiOk('GET', `/numbers/${NUMBER}/automation`)) as Record<string, Record<string, unknown>>;
    const p = await page(1280, 1400);
    await signIn(p, ADMIN.login, ADMIN.password);
    await p.goto(`/numbers/${NUMBER}/settings`);
    const reminder = p.locator('section[data-section="reminder"]');
    await reminder.getByRole('heading', { name: 'Reminder (delayed agent response)' }).waitFor();
    await assertAccessible(p, 'settings');
    screenshots.push(await screenshot(p, 'settings'));

    await reminder.getByRole('switch').check({ force: true });
    const wait = reminder.getByLabel(/Waiting time/);
    await wait.fill('5000');
    await reminder.getByLabel('Message', { exact: true }).fill('Still there? An agent is *on the way*.');
    await reminder.getByRole('button', { name: /^Save/ }).click();
    await reminder.getByRole('alert').filter({ hasText: 'Not saved' }).waitFor();
    // The server's message for reminder.waitMinutes, tied to the field (aria-describedby).
    const describedBy = await wait.getAttribute('aria-describedby');
    assert.ok(describedBy, 'the field points at its error');
    const fieldError = await p.locator(`[id="${describedBy!.split(' ').find((id) => id.includes('error')) ?? describedBy}"]`).innerText();
    const server = await s.api('PUT', `/numbers/${NUMBER}/automation`, { ...before, reminder: { ...before.reminder, waitMinutes: 5000 } });
    assert.equal(server.status, 400);
    const serverMessage = (server.body.error.details as { field: string; message: string }[]).find(
      (d) => d.field === 'reminder.waitMinutes',
    )!.message;
    assert.equal(fieldError.trim(), serverMessage);
    assert.equal(await wait.getAttribute('aria-invalid'), 'true');
    screenshots.push(await screenshot(p, 'settings-refused'));
    assert.deepEqual(await apiOk('GET', `/numbers/${NUMBER}/automation`), before, 'nothing was saved');

    await wait.fill('10');
    await reminder.getByRole('button', { name: /^Save/ }).click();
    await reminder.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const after = (await apiOk('GET', `/numbers/${NUMBER}/automation`)) as Record<string, Record<string, unknown>>;
    assert.equal(after.reminder.waitMinutes, 10);
    assert.equal(after.reminder.enabled, true);
    assert.deepEqual((after.reminder.message as { text: { body: string } }).text.body, 'Still there? An agent is *on the way*.');
    assert.deepEqual(after.welcome, before.welcome, 'other sections are untouched');
    // Its preview shows WhatsApp formatting.
    assert.equal(
      await reminder
        .getByLabel(/preview/)
        .locator('strong')
        .innerText(),
      'on the way',
    );
    await p.context().close();
  });

  it('when an admin sets business hours, then an overlapping interval is refused at its field and a split shift in a time zone saves', async () => {
    const p = await page(1280, 1600);
    await signIn(p, ADMIN.login, ADMIN.password);
    await p.goto(`/numbers/${NUMBER}/settings`);
    const hours = p.locator('section[data-section="businessHours"]');
    await hours.getByRole('heading', { name: 'Business hours' }).waitFor();
    await hours.getByRole('switch', { name: 'Business hours: enabled' }).check({ force: true });
    await hours.getByLabel('Time zone').fill('Europe/Madrid');
    await p.getByRole('option', { name: 'Europe/Madrid', exact: true }).click();
    await hours.getByRole('button', { name: 'Add an interval on Monday' }).click();
    // Monday now has 09:00–17:00 (the default) and 14:00–18:00, which overlap.
    await hours.getByRole('button', { name: /^Save/ }).click();
    const second = hours.getByLabel('Monday interval 2 opens');
    await hours.getByRole('alert').filter({ hasText: 'Not saved' }).waitFor();
    assert.equal(await second.getAttribute('aria-invalid'), 'true');
    assert.equal(
      ((await apiOk('GET', `/numbers/${NUMBER}/automation`)) as { businessHours: { enabled: boolean } }).businessHours.enabled,
      false,
      'nothing saved',
    );

    await hours.getByLabel('Monday interval 1 closes').fill('13:00');
    await hours.getByLabel('Closed dates').fill('2026-12-25, 2027-01-01');
    await hours.getByRole('button', { name: /^Save/ }).click();
    await hours.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const saved = (await apiOk('GET', `/numbers/${NUMBER}/automation`)) as { businessHours: Record<string, unknown> };
    assert.equal(saved.businessHours.enabled, true);
    assert.equal(saved.businessHours.timezone, 'Europe/Madrid');
    assert.deepEqual((saved.businessHours.weekly as Record<string, unknown>).mon, [
      ['09:00', '13:00'],
      ['14:00', '18:00'],
    ]);
    assert.deepEqual(saved.businessHours.closedDates, ['2026-12-25', '2027-01-01']);
    await p.mouse.move(0, 0); // a hovered button's darker shade is not what axe should judge
    await assertAccessible(p, 'settings (business hours)');
    await hours.screenshot({ path: path.join(SCREENSHOT_DIR, 'settings-business-hours.png'), animations: 'disabled' });
    screenshots.push(path.join(SCREENSHOT_DIR, 'settings-business-hours.png'));
    // Off again, so the other tests' conversations on this number are not out of office.
    await apiOk('PUT', `/numbers/${NUMBER}/automation`, { ...saved, businessHours: { ...saved.businessHours, enabled: false } });
    await p.context().close();
  });

  it('when an admin edits a list and a link button, then what the editor does not show is kept, an http link is refused at its field, and https saves', async () => {
    const before = (await apiOk('GET', `/numbers/${NUMBER}/automation`)) as Record<string, Record<string, unknown>>;
    const list = {
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'How can we help?' },
        footer: { text: 'Acme support' },
        action: {
          button: 'Choose',
          sections: [
            { title: 'Orders', rows: [{ id: 'late', title: 'My order is late' }] },
            { title: 'Other', rows: [{ id: 'human', title: 'Talk to a person', description: 'An agent answers' }] },
          ],
        },
      },
    };
    await apiOk('PUT', `/numbers/${NUMBER}/automation`, { ...before, welcome: { enabled: false, message: list } });
    const p = await page(1280, 1400);
    await signIn(p, ADMIN.login, ADMIN.password);
    await p.goto(`/numbers/${NUMBER}/settings`);
    const welcome = p.locator('section[data-section="welcome"]');
    await welcome.getByLabel('List button (1–20)').waitFor();
    await welcome.getByLabel('Message', { exact: true }).fill('How can we *help* today?');
    await welcome.getByLabel('Row 1 title').fill('Where is my order?');
    await welcome.getByRole('button', { name: /^Save/ }).click();
    await welcome.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const saved = ((await apiOk('GET', `/numbers/${NUMBER}/automation`)) as { welcome: { message: typeof list } }).welcome.message;
    assert.equal(saved.interactive.body.text, 'How can we *help* today?');
    assert.deepEqual(saved.interactive.footer, list.interactive.footer, 'the footer the editor does not show is kept');
    assert.deepEqual(saved.interactive.action.sections[1], list.interactive.action.sections[1], 'the second section is kept');
    assert.equal(saved.interactive.action.sections[0].rows[0].title, 'Where is my order?');

    const reply = p.locator('section[data-section="unassignedReply"]');
    await reply
      .locator('label')
      .filter({ hasText: /^Link button$/ })
      .click();
    await reply.getByLabel('Message', { exact: true }).fill('We are away. Track your order meanwhile:');
    await reply.getByLabel('Button text (1–20)').fill('Track order');
    const url = reply.getByLabel('Opens (https)');
    await url.fill('http://acme.example/track');
    await reply.getByRole('button', { name: /^Save/ }).click();
    await reply.getByRole('alert').filter({ hasText: 'Not saved' }).waitFor();
    assert.equal(await url.getAttribute('aria-invalid'), 'true', 'the refusal is shown at the link field');
    await url.fill('https://acme.example/track');
    await reply.getByRole('button', { name: /^Save/ }).click();
    await reply.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const after = (await apiOk('GET', `/numbers/${NUMBER}/automation`)) as { unassignedReply: { message: Record<string, unknown> } };
    assert.deepEqual(after.unassignedReply.message, {
      type: 'interactive',
      interactive: {
        type: 'cta_url',
        body: { text: 'We are away. Track your order meanwhile:' },
        action: { name: 'cta_url', parameters: { display_text: 'Track order', url: 'https://acme.example/track' } },
      },
    });
    await reply
      .getByLabel(/preview/)
      .getByText('↗ Track order')
      .waitFor();
    await assertAccessible(p, 'settings-interactive');
    screenshots.push(await screenshot(p, 'settings-interactive'));
    await apiOk('PUT', `/numbers/${NUMBER}/automation`, before);
    await p.context().close();
  });

  it('when a customer writes, then the message appears in an admin’s open conversation without a reload (20 tries: median and worst latency)', async () => {
    const first = await customerSays('15550101001', 'Hello, is anyone there?', 'Live Lucy');
    const conversation = await conversationOf(first);
    const p = await page();
    await signIn(p, ADMIN.login, ADMIN.password);
    await p.goto(`/inbox/unassigned/${conversation.id}`);
    await p.getByTestId('conversation-pane').getByText('Hello, is anyone there?').waitFor();
    const mode = await p.getByTestId('live-mode').innerText();
    let navigations = 0;
    p.on('framenavigated', () => navigations++);
    const latencies: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const body = `Live message number ${i} ${Date.now()}`;
      const started = Date.now();
      await customerSays('15550101001', body, 'Live Lucy');
      await p.getByTestId('conversation-pane').getByText(body).waitFor({ timeout: 10_000 });
      latencies.push(Date.now() - started);
    }
    assert.equal(navigations, 0, 'no reload');
    console.log(
      `      live-update latency (webhook → visible, ${mode.trim()}), 20 tries: median ${median(latencies)} ms, worst ${Math.max(...latencies)} ms`,
    );
    assert.ok(Math.max(...latencies) < 10_000);
    // And in the list: a new customer shows up in the Unassigned view without a reload.
    await p.goto('/inbox/unassigned');
    await p.getByTestId('conversation-list').waitFor();
    await customerSays('15550101002', 'New here', 'Newcomer Nina');
    await p.getByTestId('conversation-list').getByText('Newcomer Nina').waitFor({ timeout: 10_000 });
    await p.context().close();
  });

  it('when someone switches conversations while the first one is still loading, then the pane shows the second one, even after the first one’s answer arrives', async () => {
    const lucy = await conversationOf(await customerSays('15550101001', 'Still there?', 'Live Lucy'));
    const p = await page();
    await signIn(p, ADMIN.login, ADMIN.password);
    await p.goto('/inbox/unassigned');
    const list = p.getByTestId('conversation-list');
    await list.getByText('Newcomer Nina').waitFor();
    // Lucy's conversation answers slowly (a busy server), so it arrives after Nina's.
    await p.route(`**/api/conversations/${lucy.id}`, async (route) => {
      await new Promise((r) => setTimeout(r, 1_500));
      await route.continue().catch(() => undefined);
    });
    const lucyAnswered = p.waitForResponse((r) => r.url().endsWith(`/api/conversations/${lucy.id}`));
    await list.getByText('Live Lucy').click();
    await list.getByText('Newcomer Nina').click();
    const pane = p.getByTestId('conversation-pane');
    await pane.getByText('New here').waitFor();
    await lucyAnswered;
    await new Promise((r) => setTimeout(r, 500)); // time for a late answer to be rendered
    assert.equal(await pane.getByRole('heading', { level: 2 }).innerText(), 'Newcomer Nina');
    assert.equal(await pane.getByText('Still there?').count(), 0, 'Lucy’s messages are not shown under Nina’s address');
    assert.match(p.url(), /\/inbox\/unassigned\/[0-9a-f-]+$/);
    await p.context().close();
  });

  it('when an agent at their limit sees the people in queue, then they claim one, reply, and the reply reaches WhatsApp; closing sends the survey', async () => {
    await apiOk('PUT', `/numbers/${NUMBER}/automation`, {
      ...((await apiOk('GET', `/numbers/${NUMBER}/automation`)) as object),
      csat: { enabled: true, body: 'How did we do?', buttonText: 'Rate us' },
    });
    await apiOk('PUT', `/agents/${ALICE.login}`, { name: 'Alice', receptionLimit: 1, status: 'online' });
    const a = await conversationOf(await customerSays('15550102001', 'My order is late', 'Ann Assigned'));
    await eventually(async () => (await statusOf(a.id)) === 'assigned', 15_000, 'assigned to alice');
    const b = await conversationOf(await customerSays('15550102002', 'Can someone help me?', 'Quentin Queued'));
    await eventually(async () => (await statusOf(b.id)) === 'queued', 15_000, 'queued');

    const p = await page();
    await signIn(p, ALICE.login, ALICE.password);
    const banner = p.getByTestId('queue-banner');
    await banner.waitFor();
    assert.match(await banner.innerText(), /1 person in queue/);
    await p.getByTestId('conversation-list').getByText('Ann Assigned').click();
    await p.getByTestId('conversation-pane').getByText('My order is late').waitFor();
    await assertAccessible(p, 'inbox');
    screenshots.push(await screenshot(p, 'inbox'));

    await banner.getByRole('button', { name: /in queue/ }).click();
    const dialog = p.getByRole('dialog', { name: 'People in queue' });
    await dialog.getByText('Quentin Queued').waitFor();
    await assertAccessible(p, 'people-in-queue');
    await dialog.getByRole('button', { name: 'Claim conversation with Quentin Queued' }).click();
    await p.waitForURL(`**/inbox/mine/${b.id}`);
    await eventually(async () => (await statusOf(b.id)) === 'assigned', 15_000, 'claimed');
    await p.getByTestId('conversation-pane').getByText('Can someone help me?').waitFor();

    s.graph.reset();
    const reply = 'Hi Quentin! *Sorry* for the wait.';
    await p.getByLabel('Message', { exact: true }).fill(reply);
    await p.getByLabel('Preview').locator('strong').filter({ hasText: 'Sorry' }).waitFor();
    await p.getByRole('button', { name: 'Send' }).click();
    const [sent] = await s.graph.waitForMessages(1);
    assert.equal((sent.body.text as { body: string }).body, reply);
    assert.equal(String(sent.body.to).replace(/^\+/, ''), '15550102002');
    await p.getByTestId('conversation-pane').locator('.msg-row-out').filter({ hasText: 'Hi Quentin!' }).waitFor();
    screenshots.push(await screenshot(p, 'conversation'));

    await p.getByRole('button', { name: 'Close conversation' }).click();
    const messages = await s.graph.waitForMessages(2);
    const survey = messages[1].body as { type: string; interactive: { type: string; body: { text: string } } };
    assert.equal(survey.type, 'interactive');
    assert.equal(survey.interactive.type, 'list');
    assert.equal(survey.interactive.body.text, 'How did we do?');
    await p.getByTestId('conversation-status').filter({ hasText: 'closed' }).waitFor();
    // The customer taps "4 Satisfied": the answer is recorded against alice.
    const answer = textWebhook({ wamid: `wamid.WEB-CSAT-${Date.now()}`, from: '15550102002', body: '', name: 'Quentin Queued' }) as {
      entry: { changes: { value: { messages: Record<string, unknown>[] } }[] }[];
    };
    const [message] = answer.entry[0].changes[0].value.messages;
    delete message.text;
    message.type = 'interactive';
    message.interactive = { type: 'list_reply', list_reply: { id: csatRowId(b.id, 4), title: '4 Satisfied' } };
    assert.equal((await s.postWebhook(answer)).status, 200);
    await eventually(async () => (await apiOk('GET', '/csat')).count === 1, 15_000, 'the survey answer');

    // At 390 px the inbox is one column and still usable.
    const phone = await page(390, 844);
    await signIn(phone, ALICE.login, ALICE.password);
    await phone.goto(`/inbox/mine/${a.id}`);
    await phone.getByTestId('conversation-pane').getByText('My order is late').waitFor();
    assert.equal(await phone.evaluate('document.documentElement.scrollWidth <= 390'), true, 'no horizontal scroll at 390 px');
    screenshots.push(await screenshot(phone, 'inbox-390px'));
    await phone.context().close();
    await p.context().close();
  });

  it('when an agent tries admin pages or another agent’s conversation, then the app and the API refuse', async () => {
    await apiOk('PUT', `/agents/${BOB.login}`, { name: 'Bob', receptionLimit: 5, status: 'online' });
    const c = await conversationOf(await customerSays('15550103001', 'Bob, are you there?', 'Bob’s Customer'));
    await eventually(async () => (await s.db('conversations').where({ id: c.id }).first()).agent_id === BOB.login, 15_000, 'assigned to bob');

    const p = await page();
    await signIn(p, ALICE.login, ALICE.password);
    assert.equal(await p.getByRole('link', { name: 'Numbers & settings' }).count(), 0, 'no settings link for agents');
    await p.goto(`/numbers/${NUMBER}/settings`);
    await p.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await p.goto(`/inbox/mine/${c.id}`);
    await p.getByTestId('conversation-pane').getByText('Only bob can reply to this conversation.').waitFor();
    assert.equal(await p.getByRole('button', { name: 'Send' }).count(), 0);
    assert.equal(await p.getByRole('button', { name: 'Close conversation' }).count(), 0);
    // A plain function body: tsx's helpers (__name) do not exist in the page.
    const statuses = await p.evaluate(async (id) => {
      const json = { 'content-type': 'application/json' };
      const settings = await fetch('/api/numbers/106540352242922/automation');
      const reply = await fetch(`/api/conversations/${id}/messages`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ message: { type: 'text', text: { body: 'not mine' } } }),
      });
      const close = await fetch(`/api/conversations/${id}/close`, { method: 'POST', headers: json, body: '{}' });
      return { settings: settings.status, reply: reply.status, close: close.status };
    }, c.id);
    assert.deepEqual(statuses, { settings: 403, reply: 403, close: 403 });
    assert.equal(await statusOf(c.id), 'assigned');
    await p.context().close();
  });

  it('when the customer last wrote more than 24 h ago, then the composer offers only templates, a template reaches WhatsApp, and the timeline says so in words', async () => {
    // Carol, not Bob: the sign-in test leaves Bob's login throttled.
    const CAROL = { login: 'carol', password: 'carol-password-1234' };
    await apiOk('PUT', `/agents/${BOB.login}`, { name: 'Bob', receptionLimit: 5, status: 'offline' });
    await apiOk('PUT', `/agents/${ALICE.login}`, { name: 'Alice', receptionLimit: 1, status: 'offline' });
    await apiOk('PUT', `/agents/${CAROL.login}`, { name: 'Carol', receptionLimit: 5, status: 'online' });
    await apiOk('PUT', `/users/${CAROL.login}`, { role: 'agent', name: 'Carol', password: CAROL.password, agentId: CAROL.login });
    const wamid = `wamid.WEB-${++wamids}-${Date.now()}`;
    const yesterday = Math.floor((Date.now() - 25 * 60 * 60 * 1000) / 1000);
    assert.equal(
      (await s.postWebhook(textWebhook({ wamid, from: '15550105001', body: 'Hello from yesterday', name: 'Olga Old', timestamp: yesterday }))).status,
      200,
    );
    const c = await conversationOf(wamid);
    await eventually(async () => (await s.db('conversations').where({ id: c.id }).first()).agent_id === CAROL.login, 15_000, 'assigned to carol');

    const p = await page();
    await signIn(p, CAROL.login, CAROL.password);
    await p.goto(`/inbox/mine/${c.id}`);
    const pane = p.getByTestId('conversation-pane');
    await pane.getByTestId('outside-window').waitFor();
    assert.equal(await pane.getByLabel('Message', { exact: true }).count(), 0, 'no free-form text outside the window');
    // The API refuses a free-form reply too, with the reason (R16).
    const refused = await p.evaluate(async (id) => {
      const r = await fetch(`/api/conversations/${id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agentId: 'carol', message: { type: 'text', text: { body: 'free-form' } } }),
      });
      return { status: r.status, body: await r.json() };
    }, c.id);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(JSON.stringify(refused.body), /template/);

    // Auto-close on, so the reply arms a timer the pane and the timeline show (R9).
    const settings = (await apiOk('GET', `/numbers/${NUMBER}/automation`)) as { autoClose: object };
    await apiOk('PUT', `/numbers/${NUMBER}/automation`, { ...settings, autoClose: { enabled: true, afterMinutes: 60 } });
    s.graph.reset();
    await pane.getByLabel('Template name').fill('order_update');
    await pane.getByRole('button', { name: 'Add a body parameter' }).click();
    await pane.getByLabel('Body parameter {{1}}').fill('A-1042');
    await pane.getByLabel('Preview').getByText('Template order_update (en): A-1042').waitFor();
    await pane.getByRole('button', { name: 'Send' }).click();
    const [sent] = await s.graph.waitForMessages(1);
    assert.deepEqual(sent.body.template, {
      name: 'order_update',
      language: { code: 'en' },
      components: [{ type: 'body', parameters: [{ type: 'text', text: 'A-1042' }] }],
    });
    await pane.locator('.msg-row-out').filter({ hasText: 'Template order_update' }).waitFor();
    const timeline = pane.getByTestId('timeline');
    await timeline.getByText('Customer message received').first().waitFor();
    await timeline.getByText(/Reply sent by carol/).waitFor();
    await pane
      .getByTestId('timers')
      .getByText(/Auto-close due/)
      .waitFor();
    await timeline.getByText(/Auto-close timer armed, due/).waitFor();
    assert.equal(await timeline.getByText(/\{"/).count(), 0, 'no raw JSON in the timeline');
    await assertAccessible(p, 'conversation-outside-window');
    screenshots.push(await screenshot(p, 'conversation-template', true));
    await p.context().close();
    await apiOk('PUT', `/numbers/${NUMBER}/automation`, settings);
    await apiOk('PUT', `/agents/${CAROL.login}`, { name: 'Carol', receptionLimit: 5, status: 'offline' });
  });

  it('when an admin opens agents, satisfaction, numbers and API keys, then each page shows its data and passes axe', async () => {
    const p = await page(1280, 900);
    await signIn(p, ADMIN.login, ADMIN.password);
    await p.goto('/agents');
    await p.getByRole('table', { name: 'Agents' }).getByText('Alice', { exact: true }).waitFor();
    await assertAccessible(p, 'agents');
    screenshots.push(await screenshot(p, 'agents'));

    await p.goto('/satisfaction');
    await p.getByRole('heading', { name: 'Satisfaction' }).waitFor();
    await p.getByRole('img', { name: /Distribution/ }).waitFor();
    await p.getByTestId('csat-average').filter({ hasText: '4.00' }).waitFor();
    await p.getByRole('table', { name: 'Per agent' }).getByText('alice', { exact: true }).waitFor();
    await assertAccessible(p, 'satisfaction');
    screenshots.push(await screenshot(p, 'satisfaction'));

    await p.goto('/numbers');
    await p.getByRole('link', { name: NUMBER }).click();
    await p.waitForURL(`**/numbers/${NUMBER}/settings`);
    await p.goto('/numbers');
    await p.getByRole('link', { name: NUMBER }).waitFor();
    await assertAccessible(p, 'numbers');
    screenshots.push(await screenshot(p, 'numbers'));

    await p.goto('/api-keys');
    await p.getByRole('heading', { name: 'API keys' }).waitFor();
    await p.getByLabel('Name').fill('CRM bot');
    await p.getByRole('button', { name: 'Create key' }).click();
    await p.getByText('Key created').waitFor();
    await p.getByRole('table', { name: 'API keys' }).getByText('CRM bot').waitFor();
    await assertAccessible(p, 'api-keys');
    screenshots.push(await screenshot(p, 'api-keys'));
    await p.context().close();
  });

  it('when a customer writes, then pages served by two API replicas both show the message live', async () => {
    const temporal = await connectClient({ address: s.service.temporalAddress, namespace: s.env.TEMPORAL_NAMESPACE });
    const replicas: ApiReplica[] = [];
    try {
      for (let i = 0; i < 2; i++) replicas.push(await startApiReplica(s, temporal));
      const c = await conversationOf(await customerSays('15550104001', 'Hello replicas', 'Rita Replica'));
      const pages: Page[] = [];
      for (const r of replicas) {
        const { page: p } = await newPage(browser, r.url);
        await signIn(p, ADMIN.login, ADMIN.password);
        await p.goto(`/inbox/unassigned/${c.id}`);
        await p.getByTestId('conversation-pane').getByText('Hello replicas').waitFor();
        await p.getByTestId('live-mode').filter({ hasText: 'Live' }).waitFor();
        pages.push(p);
      }
      const body = `Seen by both replicas ${Date.now()}`;
      const started = Date.now();
      await customerSays('15550104001', body, 'Rita Replica');
      const seen = await Promise.all(
        pages.map((p) =>
          p
            .getByTestId('conversation-pane')
            .getByText(body)
            .waitFor({ timeout: 10_000 })
            .then(() => Date.now() - started),
        ),
      );
      console.log(`      two replicas: visible after ${seen.join(' ms and ')} ms`);
      for (const p of pages) await p.context().close();
    } finally {
      for (const r of replicas) await r.stop();
      await temporal.connection.close();
    }
  });
});
