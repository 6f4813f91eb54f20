// Pods and logs: a battery's pods on its page, a container's log from the
// pod log API (the sandbox's lines say where they come from), a search
// within the page, follow, and the previous container refused as a real
// server refuses it.
import { expect } from '@playwright/test';
import { test, ensureInstalled, open, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('a battery shows its pods, and a pod its log, searched and followed', async ({ page }) => {
  test.setTimeout(180_000);
  await ensureInstalled(page, 'redis');

  await open(page, '/batteries/redis');
  const pods = page.getByTestId('pods');
  const row = pods.getByTestId('pod-row').filter({ hasText: 'redis-operator-' });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('pod-phase')).toHaveText('Running');
  await expect(row.getByTestId('pod-restarts')).toHaveText('0');
  await expect(row).toContainText('sandbox-node-');

  await row.getByTestId('pod-logs').first().click();
  await expect(page).toHaveURL(/\/explorer\/logs\?namespace=battery-base&pod=redis-operator-/);
  await expect(page.locator('[data-page-hydrated="false"]')).toHaveCount(0);
  const log = page.getByTestId('logs');
  await expect(log).toContainText('bi sandbox');
  await expect(log).toContainText('nothing runs in the sandbox');

  // Search within the page keeps the matching lines only.
  await page.getByTestId('logs-search').fill('on a cluster with nodes');
  await expect(log).toContainText('on a cluster with nodes');
  await expect(log).not.toContainText('nothing runs in the sandbox');
  await page.getByTestId('logs-search').fill('');

  // Follow: new lines arrive without a reload.
  await page.getByTestId('logs-follow').check();
  await expect(log).toContainText('is still not running anything', { timeout: 15_000 });
  await screenshot(page, 'logs');
  await page.getByTestId('logs-follow').uncheck();

  // The previous container: the API server's refusal, shown where it happened.
  await page.getByTestId('logs-previous').click();
  await expect(page.getByRole('alert')).toContainText('previous terminated container');
});
