// Settings: the re-check and drift-sweep intervals, typed durations checked
// as you type, saved at run time and kept; the server's options read-only.
import { expect } from '@playwright/test';
import { test, open, screenshot, pageHeaders } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('the re-check interval is changed from the settings page, kept, and reset', async ({ page }) => {
  await open(page, '/settings');
  await expect(page.getByTestId('data-dir')).toHaveText(process.env.BI_E2E_DATA_DIR ?? '');
  const form = page.getByTestId('intervals');
  const recheck = form.getByLabel('Re-check every');
  const save = form.getByRole('button', { name: 'Save' });
  await expect(recheck).toHaveValue('5m');
  await expect(form.getByLabel('Look for drift every')).toHaveValue('1h');
  await expect(page.getByTestId('note-recheck_every')).toContainText("server's --recheck-every");
  await expect(save).toBeDisabled();

  await recheck.fill('5');
  await expect(page.getByTestId('error-recheck_every')).toContainText('no unit');
  await expect(recheck).toHaveAttribute('aria-invalid', 'true');
  await expect(save).toBeDisabled();
  await recheck.fill('2s');
  await expect(page.getByTestId('error-recheck_every')).toContainText('between 10s and 24h');
  await recheck.fill('2m');
  await expect(page.getByTestId('error-recheck_every')).toBeEmpty();
  await save.click();
  await expect(page.getByTestId('note-recheck_every')).toContainText('Set here');
  await screenshot(page, 'settings');

  await page.reload();
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);
  await expect(page.getByTestId('intervals').getByLabel('Re-check every')).toHaveValue('2m');

  // The server checks again when the browser is bypassed, and stores nothing.
  const refused = await page.request.post('/api/settings/save', {
    form: { recheck_every: '1s', drift_every: '1h' },
    headers: await pageHeaders(page.request),
  });
  expect(refused.ok()).toBe(false);
  expect(await refused.text()).toContain('recheck_every');

  await page.getByRole('button', { name: "Use the server's options" }).click();
  await expect(page.getByTestId('note-recheck_every')).toContainText("server's --recheck-every");
  await expect(page.getByTestId('intervals').getByLabel('Re-check every')).toHaveValue('5m');
});
