// Journey (c): change a size, see the snapshots, roll back to the previous
// one after a confirmation that shows the change, and see the old value.
import { expect } from '@playwright/test';
import { test, ensureInstalled, open, screenshot, waitForDone } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });
test.describe.configure({ mode: 'serial' });

test('roll back to the previous snapshot and see the old value again', async ({ page }) => {
  test.setTimeout(240_000);
  await ensureInstalled(page, 'grafana');
  await open(page, '/batteries/grafana');
  const before = await page.getByLabel('Storage').inputValue();
  const after = before === '7Gi' ? '8Gi' : '7Gi';
  await page.getByLabel('Storage').fill(after);
  await page.getByRole('button', { name: 'Save' }).click();
  await waitForDone(page);

  await open(page, '/deploys');
  const rows = page.getByTestId('snapshot-row');
  expect(await rows.count()).toBeGreaterThan(1);
  // The second newest snapshot applied the size before the change.
  await rows.nth(1).getByRole('link').click();
  await expect(page).toHaveURL(/\/deploys\/\d+$/);
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);
  await page.getByRole('button', { name: 'Roll back to this snapshot…' }).click();
  const confirm = page.getByTestId('rollback-confirm');
  await expect(confirm.getByTestId('diff')).toContainText(`${after} → ${before}`);
  await screenshot(page, 'rollback-confirm');
  await confirm.getByRole('button', { name: 'Confirm rollback' }).click();
  await waitForDone(page);

  await open(page, '/batteries/grafana');
  await expect(page.getByLabel('Storage')).toHaveValue(before);
  await screenshot(page, 'after-rollback');
});

test('the diff page compares two snapshots', async ({ page }) => {
  await open(page, '/deploys');
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page).toHaveURL(/\/deploys\/diff\?from=\d+&to=\d+$/);
  await expect(page.getByTestId('diff')).toBeVisible();
});
