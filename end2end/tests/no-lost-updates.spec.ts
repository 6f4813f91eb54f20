// Journey: no lost updates. Loki's config form is open while the same
// battery changes through the JSON API; saving the form is refused with a
// banner naming the field that changed meanwhile, nothing is saved, the
// form keeps what was typed, and Reload takes the current values.
import { expect } from '@playwright/test';
import { test, open, pageHeaders, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('a battery form saved after the battery changed meanwhile names the change and saves nothing', async ({
  page,
  request,
}) => {
  const headers = await pageHeaders(request);
  // Loki needs only battery_core. Installed through the server function the
  // form uses (its defaults), unless an earlier run installed it.
  const loki = await (await request.get('/api/v1/batteries/loki')).json();
  if (!loki.installed) {
    const installed = await request.post('/api/batteries/install', {
      form: { kind: 'loki', config: '{}' },
      headers,
    });
    expect(installed.ok(), await installed.text()).toBe(true);
  }

  await open(page, '/batteries/loki');
  await expect(page.getByTestId('battery-status')).toHaveText('installed');
  const replicas = page.getByLabel('Replicas');
  const storage = page.getByLabel('Storage');
  const typed = String(Number(await replicas.inputValue()) + 1);
  await replicas.fill(typed);

  // Meanwhile someone else changes the storage of the same battery.
  const changed = await request.post('/api/v1/batteries/loki/configure', {
    data: { settings: ['storage=33Gi'] },
    headers,
  });
  expect(changed.ok(), await changed.text()).toBe(true);
  const audit = await (await request.get('/api/v1/audit')).json();

  await page.getByRole('button', { name: 'Save' }).click();
  const banner = page.getByTestId('changed-meanwhile');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('loki.storage');
  await expect(banner).toContainText('33Gi');
  await expect(page.getByTestId('error-storage')).toContainText('33Gi');
  // The form stays, with what was typed.
  await expect(page).toHaveURL(/\/batteries\/loki$/);
  await expect(replicas).toHaveValue(typed);
  await screenshot(page, 'battery-changed-meanwhile');

  // Nothing was saved.
  expect(await (await request.get('/api/v1/audit')).json()).toEqual(audit);
  const now = await (await request.get('/api/v1/batteries/loki')).json();
  expect(String(now.config.replicas)).not.toBe(typed);
  expect(String(now.config.storage)).toContain('33Gi');

  // Reload takes the current values (and version); saving then works.
  await banner.getByRole('button', { name: 'Reload' }).click();
  await expect(storage).toHaveValue('33Gi');
  await expect(page.getByTestId('changed-meanwhile')).toHaveCount(0);
  await replicas.fill(typed);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/deploys\/live\?after=\d+$/);
  const saved = await (await request.get('/api/v1/batteries/loki')).json();
  expect(String(saved.config.replicas)).toBe(typed);
  expect(String(saved.config.storage)).toContain('33Gi');
});
