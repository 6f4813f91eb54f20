// The shell around every page: navigation, 404, health, static files.
import { expect } from '@playwright/test';
import { test } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('side navigation reaches every section and marks the current one', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const section of ['Batteries', 'Projects', 'Services', 'Deploys', 'Settings']) {
    await nav.getByRole('link', { name: section }).click();
    await expect(page).toHaveURL(new RegExp(`/${section.toLowerCase()}$`));
    await expect(page.getByRole('heading', { name: section, exact: true })).toBeVisible();
    await expect(nav.getByRole('link', { name: section })).toHaveAttribute('aria-current', 'page');
  }
  await nav.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
});

test('an unknown address is a 404 page inside the layout', async ({ page }) => {
  const response = await page.goto('/no-such-page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
});

test('health endpoints report the process and the database', async ({ request }) => {
  const health = await request.get('/healthz');
  expect(health.status()).toBe(200);
  expect(await health.text()).toBe('ok');
  const ready = await request.get('/readyz');
  expect(ready.status()).toBe(200);
  expect(await ready.json()).toEqual({
    status: 'ready',
    database: 'SQLite',
    reconciler: { running: true, restarts: 0, last_panic_at: null },
  });
});

test('static files are served: stylesheet, WASM bundle and favicon', async ({ request }) => {
  for (const path of ['/pkg/bi.css', '/pkg/bi.wasm', '/pkg/bi.js', '/favicon.svg']) {
    const response = await request.get(path);
    expect(response.status(), path).toBe(200);
  }
});
