/**
 * The widget in a real browser (Debian's Chromium), on the local server's demo page: the streamed
 * echo answer, model output and user input shown as text only, the friendly 429 (readable or
 * hidden by the browser), keyboard and screen-reader basics, and token mode refreshing an expired token exactly once.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { Page, Request, Response } from 'playwright-core';
import { launchBrowser, type RunningBrowser } from '../helpers/browser.js';
import { startServer, type RunningServer } from '../helpers/local-server.js';

/** Messages one session may send per window (the rate-limit case goes past it; the others send one). */
const SESSION_LIMIT = 2;
/** Generous: the machine may be loaded; every wait is on a condition, never a sleep. */
const WAIT_MS = 60_000;
const TEST_MS = 120_000;
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

const STREAM_PATH = '/v1/chat/stream';

let server: RunningServer;
let browser: RunningBrowser;

beforeAll(async () => {
  [server, browser] = await Promise.all([
    startServer({ RATE_LIMIT_SESSION_MAX: String(SESSION_LIMIT) }),
    launchBrowser(),
  ]);
}, TEST_MS);

afterAll(async () => {
  await Promise.all([browser?.close(), server?.stop()]);
});

/** A fresh tab (so a fresh sessionStorage and session) that records every dialog it opens. */
async function openDemo(path = '/demo'): Promise<{ page: Page; dialogs: string[] }> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(`${server.url}${path}`);
  await page.getByRole('button', { name: 'Chat', exact: true }).click();
  return { page, dialogs };
}

/** Sends `message` with the keyboard and returns the stream request's response. */
async function send(page: Page, message: string): Promise<Response> {
  const response = page.waitForResponse((r) => new URL(r.url()).pathname === STREAM_PATH);
  await page.getByRole('textbox', { name: 'Message' }).fill(message);
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  return response;
}

/** Waits for the `n`-th (1-based) assistant answer to complete and returns its text. */
async function answer(page: Page, n: number): Promise<string> {
  const done = page.locator('.msg.assistant[data-state="done"] .text').nth(n - 1);
  await done.waitFor();
  return (await done.textContent()) ?? '';
}

/** Counts elements matching `selector` in the page and inside the widget (CSS locators pierce its open shadow root). */
async function countElements(page: Page, selector: string): Promise<{ widget: number; all: number }> {
  return {
    widget: await page.locator('[data-chat-widget]').locator(selector).count(),
    all: await page.locator(selector).count(),
  };
}

describe('chat widget in Chromium', () => {
  it(
    'It should stream the echo answer into the conversation and save a screenshot',
    async () => {
      const { page } = await openDemo();

      const response = await send(page, 'Hello from the browser');

      expect(response.status()).toBe(200);
      expect(response.headers()['content-type']).toMatch(/^text\/event-stream/);
      expect(await answer(page, 1)).toBe('Echo: Hello from the browser');
      await mkdir(ARTIFACTS, { recursive: true });
      const file = join(ARTIFACTS, 'widget-demo.png');
      await page.screenshot({ path: file });
      expect((await readFile(file)).subarray(1, 4).toString()).toBe('PNG');
      await page.close();
    },
    TEST_MS,
  );

  it(
    'It should show markup in messages and answers as text: no dialog, no element injected',
    async () => {
      const payload = '<img src=x onerror=alert(1)> <script>alert(2)</script> <svg onload=alert(3)>';
      const { page, dialogs } = await openDemo();

      await send(page, payload);

      expect(await answer(page, 1)).toBe(`Echo: ${payload}`);
      expect(await page.locator('.msg.user .text').textContent()).toBe(payload);
      expect(await countElements(page, 'img, svg, iframe, object, embed')).toEqual({ widget: 0, all: 0 });
      // The only script element is the demo page's own widget tag.
      expect(await countElements(page, 'script')).toEqual({ widget: 0, all: 1 });
      expect(dialogs).toEqual([]);
      await page.close();
    },
    TEST_MS,
  );

  it(
    'It should explain a 429 with the wait from Retry-After and keep the widget usable',
    async () => {
      const { page } = await openDemo();
      let answered = 0;
      let refused: Response | undefined;

      // The limiter weighs the previous fixed window, so a run that straddles a window boundary
      // may pass more than the limit; within 2 × limit + 1 messages one is always refused.
      for (let n = 1; n <= 2 * SESSION_LIMIT + 1 && !refused; n += 1) {
        const response = await send(page, `message ${n}`);
        if (response.status() === 429) {
          refused = response;
        } else {
          answered += 1;
          expect(await answer(page, answered)).toBe(`Echo: message ${n}`);
        }
      }

      expect(answered).toBeGreaterThanOrEqual(SESSION_LIMIT);
      if (!refused) throw new Error('no message was refused');
      const retryAfter = Number(refused.headers()['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      const notice = page.getByRole('alert');
      await notice.filter({ hasText: 'too quickly' }).waitFor();
      expect(await notice.textContent()).toBe(
        `You are sending messages too quickly. Please try again in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
      );
      expect(await page.locator('.msg.assistant').count()).toBe(answered);
      expect(await page.getByRole('button', { name: 'Send' }).isEnabled()).toBe(true);
      await page.close();
    },
    TEST_MS,
  );

  it(
    'should tell the visitor to try again shortly when the answer cannot be read (a WAF or API Gateway 429 has no CORS grant)',
    async () => {
      // Prepare: the browser hides a cross-origin answer without Access-Control-Allow-Origin: fetch rejects
      const { page } = await openDemo();
      await page.route(`**${STREAM_PATH}`, (route) => route.abort('failed'));

      // Act
      await page.getByRole('textbox', { name: 'Message' }).fill('hello');
      await page.getByRole('textbox', { name: 'Message' }).press('Enter');

      // Assess
      const notice = page.getByRole('alert');
      await notice.filter({ hasText: 'try again shortly' }).waitFor();
      expect(await notice.textContent()).toMatch(/too many requests were sent\. Please try again shortly\.$/);
      expect(await page.getByRole('button', { name: 'Send' }).isEnabled()).toBe(true);
      await page.close();
    },
    TEST_MS,
  );

  it(
    'It should refresh an expired token exactly once in token mode and then answer',
    async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject('demo-user')
        .setIssuedAt(now - 3600)
        .setExpirationTime(now - 600)
        .sign(new TextEncoder().encode(server.secrets.signingSecret));
      const page = await browser.context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      // The demo's getToken asks POST /demo/token: the first answer is an expired token.
      let tokenCalls = 0;
      await page.route('**/demo/token', async (route) => {
        tokenCalls += 1;
        if (tokenCalls === 1) await route.fulfill({ status: 201, json: { token: expired, tokenType: 'Bearer' } });
        else await route.continue();
      });
      const streamRequests: Request[] = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === STREAM_PATH) streamRequests.push(request);
      });
      await page.goto(`${server.url}/demo?mode=token`);
      await page.getByRole('button', { name: 'Chat', exact: true }).click();

      await page.getByRole('textbox', { name: 'Message' }).fill('Hello as a signed-in user');
      await page.getByRole('textbox', { name: 'Message' }).press('Enter');

      expect(await answer(page, 1)).toBe('Echo: Hello as a signed-in user');
      expect(tokenCalls).toBe(2);
      expect(streamRequests).toHaveLength(2);
      const [first, second] = await Promise.all(streamRequests.map((r) => r.response()));
      expect(first?.status()).toBe(401);
      expect(((await first?.json()) as { error: { code: string } }).error.code).toBe('TOKEN_EXPIRED');
      expect(second?.status()).toBe(200);
      expect(streamRequests[0]!.headers().authorization).toBe(`Bearer ${expired}`);
      expect(streamRequests[1]!.headers().authorization).toMatch(/^Bearer ey/);
      expect(streamRequests[1]!.headers().authorization).not.toBe(`Bearer ${expired}`);
      // Empty, so hidden, so not found by role.
      expect(await page.locator('[data-chat-widget] .notice').textContent()).toBe('');
      await page.close();
    },
    TEST_MS,
  );

  it(
    'It should work from the keyboard with labelled controls and return focus when Escape closes it',
    async () => {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      await page.goto(`${server.url}/demo`);
      // Hidden while the panel is open, so not found by role then.
      const launcher = page.locator('[data-chat-widget] .launcher');
      await page.getByRole('button', { name: 'Chat', exact: true }).focus();

      await page.keyboard.press('Enter');

      const dialog = page.getByRole('dialog', { name: 'Demo assistant' });
      await dialog.waitFor();
      expect(await launcher.getAttribute('aria-expanded')).toBe('true');
      expect(await page.locator('[data-chat-widget] textarea:focus').count()).toBe(1);
      for (const [role, name] of [
        ['log', 'Conversation'],
        ['button', 'Send'],
        ['button', 'Close chat'],
      ] as const) {
        expect(await page.getByRole(role, { name }).count()).toBe(1);
      }

      await page.keyboard.press('Escape');

      await dialog.waitFor({ state: 'hidden' });
      expect(await launcher.getAttribute('aria-expanded')).toBe('false');
      expect(await page.locator('[data-chat-widget] .launcher:focus').count()).toBe(1);
      await page.close();
    },
    TEST_MS,
  );
});
