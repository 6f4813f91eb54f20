// The first journey: Redis with a bad memory value (error under the
// field, the button disabled), fixed, added, the live plan watched to
// "done", and the Redis battery healthy on the dashboard.
import { expect } from '@playwright/test';
import { test, ensureInstalled, open, screenshot, waitForDone } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('add Redis with a bad memory value, fix it, watch it apply, see Redis healthy', async ({ page }) => {
  test.setTimeout(240_000);
  await ensureInstalled(page, 'redis');
  await open(page, '/projects');
  await page.getByLabel('New project').fill('cache-team');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('projects').getByRole('link', { name: 'cache-team' }).click();
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);

  await page.getByTestId('tab-redis').click();
  const form = page.getByTestId('add-redis');
  const add = form.getByRole('button', { name: 'Add Redis' });
  await form.getByLabel('Name').fill('sessions');
  const memory = form.getByLabel('Memory per instance');
  await memory.fill('512');
  await expect(page.getByTestId('error-rd-memory')).toContainText('no unit');
  await expect(memory).toHaveAttribute('aria-invalid', 'true');
  await expect(add).toBeDisabled();
  const panel = page.getByTestId('add-objects').locator('[role=tabpanel]:not([hidden])');
  await expect(panel.getByTestId('preview-summary')).toContainText('Fix the form');
  await screenshot(page, 'redis-invalid-memory');

  await memory.fill('512Mi');
  await expect(page.getByTestId('error-rd-memory')).toBeEmpty();
  await expect(add).toBeEnabled();
  // What adding it does, before it is added: Redis's objects are created and
  // the memory it asks for shows in the capacity table.
  await expect(panel.getByTestId('preview-summary')).toContainText(/[1-9]\d* to create/);
  await panel.getByText('Objects written').click();
  await expect(panel.getByTestId('preview-items')).toContainText('sessions');
  await expect(panel.getByTestId('capacity-impact')).toContainText('Memory');
  await add.click();
  await expect(page.getByTestId('object-sessions')).toContainText('redis instance');

  await form.getByTestId('rd-watch').click();
  await waitForDone(page);
  await expect(page.getByTestId('live-phase')).toContainText('succeeded');
  await screenshot(page, 'redis-live-plan-done');

  await expect(async () => {
    await open(page, '/');
    await page.getByTestId('every-app').click();
    await expect(page.getByTestId('app-redis')).toHaveText(/ready\s*$/, { timeout: 1000 });
  }).toPass({ timeout: 20000 });
  await screenshot(page, 'dashboard-redis-healthy');
});
