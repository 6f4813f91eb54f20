// The Kubernetes explorer: kinds with counts, a filtered list that follows
// the cluster while it is open, and an object's page with what bi knows of
// it (a Secret's values redacted).
import { expect, request as playwrightRequest } from '@playwright/test';
import { test, ensureInstalled, open, sandboxUrl, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('the explorer lists, filters, follows the cluster live and shows an object', async ({ page }) => {
  test.setTimeout(180_000);
  await ensureInstalled(page, 'redis');

  await open(page, '/explorer?kind=apps/v1/Deployment&app=redis');
  await expect(page.getByTestId('explorer-kinds').getByTestId('kind-deployment')).toBeVisible();
  const rows = page.getByTestId('explorer-row');
  await expect(rows.filter({ hasText: 'redis-operator' })).toHaveCount(1);
  await expect(rows.filter({ hasText: 'redis-operator' }).getByTestId('explorer-status')).toHaveText('1/1 ready');
  for (const row of await rows.all()) await expect(row).toContainText('redis');
  await screenshot(page, 'explorer');

  // A ConfigMap made behind bi's back shows up while the page is open.
  await open(page, '/explorer?kind=v1/ConfigMap&namespace=default');
  await expect(page.getByTestId('explorer-summary')).toContainText('v1/ConfigMap');
  await expect(rows.filter({ hasText: 'e2e-live' })).toHaveCount(0);
  const cluster = await playwrightRequest.newContext({ baseURL: sandboxUrl() });
  const made = await cluster.post('/api/v1/namespaces/default/configmaps', {
    data: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'e2e-live' }, data: { a: 'b' } },
  });
  expect(made.status(), await made.text()).toBe(201);
  await expect(rows.filter({ hasText: 'e2e-live' })).toHaveCount(1, { timeout: 15_000 });

  // The labels filter is checked, with the field named.
  await page.getByLabel('Labels').fill('=oops');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByTestId('explorer-objects')).toContainText('labels');

  // An object's page: what bi knows of it, and its YAML.
  await open(page, '/explorer?kind=apps/v1/Deployment&app=redis');
  await rows.filter({ hasText: 'redis-operator' }).getByRole('link', { name: 'redis-operator' }).click();
  await expect(page.getByTestId('object-path')).toHaveText('apps/v1/Deployment/battery-base/redis-operator');
  await expect(page.getByTestId('object-managed')).toContainText('redis');
  await expect(page.getByTestId('object-last-write')).toContainText(/by snapshot \d+/);
  await expect(page.getByTestId('object-yaml')).toContainText('kind: Deployment');
  await screenshot(page, 'explorer-object');

  // A Secret's values never reach the browser.
  await open(page, '/explorer/object?path=v1/Secret/battery-core/control-server-setup');
  await expect(page.getByTestId('object-yaml')).toContainText('<redacted>');
});
