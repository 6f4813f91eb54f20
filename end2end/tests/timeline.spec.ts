// The timeline and the archive of deleted objects: a stored change and a
// cluster Event are on the timeline, filtered by battery and warnings; an
// object deleted behind bi's back is archived, undeleted in one click, and
// the deletion and the undelete are on the timeline too.
import { expect, request as playwrightRequest } from '@playwright/test';
import { test, ensureInstalled, open, sandboxUrl, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('the timeline shows changes and cluster events; a deleted object is undeleted', async ({ page }) => {
  test.setTimeout(180_000);
  await ensureInstalled(page, 'timeline');
  const cluster = await playwrightRequest.newContext({ baseURL: sandboxUrl() });
  const reason = `E2eProbe${Date.now()}`;
  const created = await cluster.post('/api/v1/namespaces/battery-core/events', {
    data: {
      metadata: { name: `timeline.${Date.now()}`, namespace: 'battery-core' },
      involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'battery-core', name: 'timeline' },
      reason,
      message: 'probe from the browser test',
      type: 'Warning',
      count: 1,
      lastTimestamp: new Date().toISOString(),
      source: { component: 'e2e' },
    },
  });
  expect(created.status(), await created.text()).toBe(201);

  // Filters go in the URL; the open page reads itself again.
  await open(page, '/timeline');
  await page.getByTestId('timeline-battery').fill('timeline');
  await page.getByTestId('timeline-warnings').check();
  await page.getByTestId('timeline-filters').getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/battery=timeline/);
  await expect(page).toHaveURL(/warnings=true/);
  const probe = page.getByTestId('timeline-entry').filter({ hasText: reason });
  await expect(probe).toBeVisible({ timeout: 30_000 });
  await expect(probe).toContainText('ConfigMap battery-core/timeline');
  await expect(probe).toHaveAttribute('data-warning', 'true');
  await expect(page.getByTestId('timeline-recording')).toContainText('Recording');
  await screenshot(page, 'timeline');

  await page.getByTestId('timeline-warnings').uncheck();
  await page.getByTestId('timeline-category').selectOption('change');
  await page.getByTestId('timeline-filters').getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/category=change/);
  await expect(page.getByTestId('timeline-entry').filter({ hasText: 'install' }).first()).toBeVisible({ timeout: 30_000 });
  for (const entry of await page.getByTestId('timeline-entry').all()) {
    await expect(entry).toHaveAttribute('data-category', 'change');
  }

  // Someone deletes the timeline's settings behind bi's back, while the
  // archive's page is open: it shows the deletion without a reload.
  await open(page, '/deleted');
  const gone = await cluster.delete('/api/v1/namespaces/battery-core/configmaps/timeline');
  expect(gone.status(), await gone.text()).toBe(200);
  const path = 'v1/ConfigMap/battery-core/timeline';
  const row = page.getByTestId('deleted-object').filter({ hasText: path }).filter({ has: page.getByTestId('undelete') });
  await expect(row).toHaveCount(1, { timeout: 30_000 });
  await expect(row).toContainText('outside bi');
  // Its last body, as it was when deleted.
  await row.getByTestId('show-body').click();
  await expect(page).toHaveURL(/\/deleted\?show=\d+/);
  await expect(page.getByTestId('deleted-body')).toContainText(path);
  await expect(page.getByTestId('deleted-body').locator('pre')).toContainText('kind: ConfigMap');
  await expect(page.getByTestId('deleted-body').locator('pre')).toContainText('name: timeline');
  await row.getByTestId('undelete').click();
  await expect(page.getByTestId('undeleted')).toContainText('created again by snapshot', { timeout: 90_000 });
  const back = await cluster.get('/api/v1/namespaces/battery-core/configmaps/timeline');
  expect(back.status()).toBe(200);
  await screenshot(page, 'undeleted');

  await open(page, '/timeline?category=undelete');
  await expect(page.getByTestId('timeline-entry').filter({ hasText: path.split('/').pop()! }).first()).toBeVisible({ timeout: 30_000 });
  await open(page, '/timeline?category=deletion&battery=timeline');
  await expect(page.getByTestId('timeline-entry').filter({ hasText: 'deleted outside bi' }).first()).toBeVisible({ timeout: 30_000 });
});
