// The dashboard: server-function data, hydration, rename end to end.
import { expect } from '@playwright/test';
import { test, pageHeaders } from './journeys';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

test.use({ baseURL: process.env.BI_BASE_URL });
test.describe.configure({ mode: 'serial' });

const SCREENSHOTS = join(__dirname, '..', 'screenshots');

test('dashboard shows the installation fetched through a server function', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByTestId('installation-name')).toHaveText('bi');
  await expect(page.getByTestId('topbar-installation-name')).toHaveText('bi');
  await expect(page.getByTestId('database-backend')).toHaveText('SQLite');
  await expect(page.getByTestId('version')).toHaveText(/^\d+\.\d+\.\d+/);
  const created = page.getByTestId('created-at');
  await expect(created).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
  await expect(created).toHaveAttribute('title', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  await expect(page).toHaveTitle('Dashboard · bi');
});

test('the sandbox cluster is labelled as a sandbox, with its address and kubeconfig', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('sandbox-badge')).toHaveText('Sandbox cluster');
  await expect(page.getByTestId('cluster')).toContainText('nothing runs in it');
  await expect(page.getByTestId('cluster-url')).toHaveText(/^http:\/\/127\.0\.0\.1:\d+$/);
  await expect(page.getByTestId('cluster-kubeconfig')).toHaveText(/sandbox\.kubeconfig$/);
});

test('rename validates as you type, saves through the server and survives a reload', async ({ page }) => {
  await page.goto('/');
  // Hydration done: only the WASM side flips this marker.
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);

  const input = page.getByLabel('New name');
  const save = page.getByRole('button', { name: 'Save' });
  await expect(save).toBeDisabled();

  // Client-side validation (bi-model compiled to WASM) reacts without a round trip.
  await input.fill('Prod EU');
  await expect(page.getByTestId('rename-error')).toContainText('lowercase letters');
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  await expect(save).toBeDisabled();

  await input.fill('e2e-cluster');
  await expect(page.getByTestId('rename-error')).toBeEmpty();
  await expect(save).toBeEnabled();
  await save.click();

  await expect(page.getByTestId('rename-saved')).toHaveText('Renamed to e2e-cluster.');
  await expect(page.getByTestId('topbar-installation-name')).toHaveText('e2e-cluster');
  await expect(page.getByTestId('installation-name')).toHaveText('e2e-cluster');

  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, 'dashboard.png'), fullPage: true });

  // Stored in the database: a fresh server render shows it.
  await page.reload();
  await expect(page.getByTestId('installation-name')).toHaveText('e2e-cluster');
});

test('the server refuses an invalid name even when the browser is bypassed', async ({ request }) => {
  const refused = await request.post('/api/installation/rename', {
    form: { name: 'NOT valid!' },
    headers: await pageHeaders(request),
  });
  expect(refused.ok()).toBe(false);
  const body = await refused.json();
  expect(body.error.code).toBe('invalid');
  expect(body.error.problems[0].field).toBe('installation.name');

  const overview = await request.post('/api/installation/overview', {
    headers: await pageHeaders(request),
  });
  expect(overview.ok()).toBe(true);
  expect((await overview.json()).name).toBe('e2e-cluster');
});
