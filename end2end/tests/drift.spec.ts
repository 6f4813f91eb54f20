// Drift on screen: a change made behind bi's back is found by a sweep asked
// for on the dashboard, shown with its fields, kept while drift is only
// reported, and repaired in one click; the battery's page shows its own.
import { expect, request as playwrightRequest } from '@playwright/test';
import { test, ensureInstalled, open, sandboxUrl, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('drift found on demand is shown on the dashboard and repaired in one click', async ({ page }) => {
  test.setTimeout(180_000);
  await ensureInstalled(page, 'redis');

  await open(page, '/');
  const card = page.getByTestId('drift');
  // Report only, so the sweep's finding stays open until the repair.
  if ((await card.getByTestId('drift-mode').textContent())?.includes('bi repairs drift on its own')) {
    await card.getByTestId('drift-mode-toggle').click();
  }
  await expect(card.getByTestId('drift-mode')).toContainText('Drift is only reported');

  // Someone scales the Redis operator by hand; its hash annotation stays.
  const cluster = await playwrightRequest.newContext({ baseURL: sandboxUrl() });
  const scaled = await cluster.patch('/apis/apps/v1/namespaces/battery-base/deployments/redis-operator', {
    headers: { 'Content-Type': 'application/merge-patch+json' },
    data: { spec: { replicas: 3 } },
  });
  expect(scaled.status(), await scaled.text()).toBe(200);

  await card.getByTestId('drift-check').click();
  await expect(card.getByTestId('drift-open-count')).toHaveText('1 object changed outside bi', { timeout: 60_000 });
  const row = card.getByTestId('drift-open').getByTestId('drift-row');
  await expect(row).toContainText('apps/v1/Deployment/battery-base/redis-operator');
  await expect(row).toContainText('/spec/replicas');
  await expect(card.getByTestId('drift-last-sweep')).toContainText('1 drifted');
  await screenshot(page, 'drift-found');

  // Kept in the database: a fresh render shows it, and so does the battery's page.
  await open(page, '/batteries/redis');
  await expect(page.getByTestId('drift').getByTestId('drift-open')).toContainText('redis-operator');
  await open(page, '/');
  await expect(card.getByTestId('drift-open')).toContainText('redis-operator');

  await card.getByTestId('drift-repair').click();
  await expect(card.getByTestId('drift-none')).toBeVisible({ timeout: 90_000 });
  await card.locator('summary').click();
  await expect(card.getByTestId('drift-closed').getByTestId('drift-row').first()).toContainText(/repaired by snapshot \d+/);
  const after = await cluster.get('/apis/apps/v1/namespaces/battery-base/deployments/redis-operator');
  expect((await after.json()).spec.replicas).toBe(1);

  await card.getByTestId('drift-mode-toggle').click();
  await expect(card.getByTestId('drift-mode')).toContainText('bi repairs drift on its own');
});
