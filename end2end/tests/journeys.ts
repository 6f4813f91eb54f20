// Steps the journeys share: waiting for hydration, installing a battery
// through the UI, and watching the live plan viewer reach "done".
import { test as base, expect, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Playwright's `test`, failing any test whose page panicked in WASM or
 * reported a hydration error: either leaves the page dead without a visible
 * error, which the steps would otherwise only see as a timeout. */
export const test = base.extend<{ browserErrors: string[] }>({
  browserErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('console', (message) => {
        const text = message.text();
        if (message.type() === 'error' && /panicked at|hydration error/i.test(text)) {
          errors.push(text.split('\n')[0]);
        }
      });
      page.on('pageerror', (error) => errors.push(error.message));
      await use(errors);
      expect(errors, 'the browser reported a panic or a hydration error').toEqual([]);
    },
    { auto: true },
  ],
});

export const SCREENSHOTS = join(__dirname, '..', 'screenshots');

/** Opens `path` and waits until the WASM side has hydrated the page: the
 * shell, then (for a lazy route) the page's own chunk. */
export async function open(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);
  await expect(page.locator('[data-page-hydrated="false"]')).toHaveCount(0);
}

/** Waits on the live viewer until its snapshot finished. */
export async function waitForDone(page: Page): Promise<void> {
  await expect(page).toHaveURL(/\/deploys\/live\?after=\d+$/);
  await expect(page.getByTestId('live-summary')).toContainText('Done:', { timeout: 90_000 });
}

/** Installs `kind` with its defaults through its page, unless it is installed. */
export async function ensureInstalled(page: Page, kind: string): Promise<void> {
  await open(page, `/batteries/${kind}`);
  const status = page.getByTestId('battery-status');
  if ((await status.textContent())?.trim() === 'installed') return;
  await expect(page.getByTestId('install-preview')).toContainText(/installs|No other battery/);
  await page.getByRole('button', { name: 'Install' }).click();
  await waitForDone(page);
}

/** Saves a full-page PNG under end2end/screenshots/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The headers bi's own page sends with a change it makes: its origin and
 * the CSRF token the server wrote into the page for this session. */
export async function pageHeaders(request: APIRequestContext): Promise<Record<string, string>> {
  const html = await (await request.get('/')).text();
  const token = /name="csrf-token" content="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('the page carries no CSRF token');
  return { Origin: process.env.BI_BASE_URL ?? '', 'x-csrf-token': token };
}

/** The sandbox's API server URL, from the kubeconfig bi wrote for it. */
export function sandboxUrl(): string {
  const dataDir = process.env.BI_E2E_DATA_DIR;
  if (!dataDir) throw new Error('global-setup sets BI_E2E_DATA_DIR');
  const kubeconfig = readFileSync(join(dataDir, 'sandbox.kubeconfig'), 'utf8');
  const server = /server:\s*(\S+)/.exec(kubeconfig)?.[1];
  if (!server) throw new Error(`no server in the sandbox's kubeconfig:\n${kubeconfig}`);
  return server;
}

/** A page in a browser context nobody is signed in to. */
export async function anonymous(browser: Browser): Promise<Page> {
  const context = await browser.newContext({
    baseURL: process.env.BI_BASE_URL,
    storageState: { cookies: [], origins: [] },
  });
  return context.newPage();
}
