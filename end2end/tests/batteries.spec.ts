// Journey (a): find Grafana, type a size without a unit, see the error
// under the field and Save disabled, fix it, install, watch the live plan
// reach "done", and see the battery installed.
import { expect } from '@playwright/test';
import { test, open, screenshot, waitForDone, pageHeaders } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });
test.describe.configure({ mode: 'serial' });

test('the catalog is grouped and searchable', async ({ page }) => {
  await open(page, '/batteries');
  await expect(page.getByTestId('group-Monitoring')).toBeVisible();
  await expect(page.getByTestId('battery-battery_core')).toContainText('installed');
  await page.getByLabel('Search batteries').fill('grafana');
  await expect(page.getByTestId('battery-grafana')).toBeVisible();
  await expect(page.getByTestId('battery-redis')).toHaveCount(0);
  await expect(page.getByTestId('group-Core')).toHaveCount(0);
});

test('install Grafana with a typed storage size, validated as you type', async ({ page }) => {
  await open(page, '/batteries');
  await page.getByLabel('Search batteries').fill('graf');
  await page.getByTestId('battery-grafana').getByRole('link', { name: 'Grafana' }).click();
  await expect(page).toHaveURL(/\/batteries\/grafana$/);
  await expect(page.getByRole('heading', { name: 'Grafana', exact: true })).toBeVisible();
  await expect(page.getByTestId('install-preview')).toBeVisible();

  const storage = page.getByLabel('Storage');
  const install = page.getByRole('button', { name: 'Install' });
  await expect(install).toBeEnabled();

  await storage.fill('500');
  await expect(page.getByTestId('error-storage')).not.toBeEmpty();
  await expect(storage).toHaveAttribute('aria-invalid', 'true');
  await expect(install).toBeDisabled();
  await screenshot(page, 'battery-invalid-size');

  await storage.fill('5Gi');
  await expect(page.getByTestId('error-storage')).toBeEmpty();
  await expect(install).toBeEnabled();
  await install.click();

  await waitForDone(page);
  await expect(page.getByTestId('live-phase')).toContainText(/succeeded|failed/);
  await screenshot(page, 'live-plan-done');

  await open(page, '/batteries/grafana');
  await expect(page.getByTestId('battery-status')).toHaveText('installed');
  await expect(page.getByLabel('Storage')).toHaveValue('5Gi');
  await open(page, '/');
  await expect(page.getByTestId('installed-grafana')).toBeVisible();
  // Healthy from the cluster: the sandbox reports its workloads ready soon after they are applied.
  // The card lists only apps that need attention; every app is one click away.
  await expect(async () => {
    await open(page, '/');
    await expect(page.getByTestId('health-grafana')).toHaveCount(0);
    await page.getByTestId('every-app').click();
    await expect(page.getByTestId('app-grafana')).toHaveText(/ready\s*$/, { timeout: 1000 });
  }).toPass({ timeout: 15000 });
  await expect(page.getByTestId('every-app')).toHaveAttribute('aria-expanded', 'true');
  await expect(page.getByTestId('app-grafana')).toContainText(/\d+\/\d+ ready/);
  await expect(page.getByTestId('count-ready')).toContainText(/^\d+ ready$/);
  await expect(page.getByTestId('usage-memory')).toContainText('requested');
  await screenshot(page, 'dashboard-with-grafana');
});

test('the preview beside the form shows what saving a change would write', async ({ page }) => {
  await open(page, '/batteries/grafana');
  const preview = page.getByTestId('change-preview');
  await expect(preview).toContainText('Planned against snapshot #');
  await expect(preview.getByTestId('preview-summary')).toHaveText('Saving changes nothing in the cluster.');
  await expect(preview.getByTestId('capacity-impact')).toContainText('Memory');

  await page.getByLabel('Storage').fill('7Gi');
  await expect(preview.getByTestId('preview-summary')).toContainText(/0 to create, [1-9]\d* to update, 0 to delete/);
  const item = preview.getByTestId('preview-item').filter({ hasText: 'PersistentVolumeClaim' });
  await item.getByRole('button').click();
  await expect(item.getByTestId('preview-fields')).toContainText('5Gi');
  await expect(item.getByTestId('preview-fields')).toContainText('7Gi');
  await expect(item.getByTestId('preview-yaml')).toContainText('kind: PersistentVolumeClaim');
  await expect(item.getByTestId('preview-yaml')).toContainText('storage: 7Gi');
  await screenshot(page, 'battery-change-preview');

  // An invalid form has nothing to preview; nothing was saved meanwhile.
  await page.getByLabel('Storage').fill('7');
  await expect(preview.getByTestId('preview-summary')).toContainText('Fix the form');
  await open(page, '/batteries/grafana');
  await expect(page.getByLabel('Storage')).toHaveValue('5Gi');
});

test('the server refuses a bad size even when the browser is bypassed', async ({ request }) => {
  const refused = await request.post('/api/batteries/configure', {
    form: { kind: 'grafana', config: JSON.stringify({ storage: '500' }) },
    headers: await pageHeaders(request),
  });
  expect(refused.ok()).toBe(false);
  const body = await refused.json();
  // The one wire error of bi-api, the same shape as the JSON API's.
  expect(body.error.code).toBe('rejected');
  expect(body.error.problems[0].field).toBe('grafana.storage');
});

test('uninstalling a battery others need is refused with their names', async ({ page }) => {
  await open(page, '/batteries/battery_core');
  await expect(page.getByText('bi cannot run without this battery.')).toBeVisible();
});
