// Reading without JavaScript (the server renders the data), and layouts
// that do not overflow at phone and desktop widths.
import { expect } from '@playwright/test';
import { test, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

const PAGES = ['/', '/batteries', '/batteries/redis', '/projects', '/services', '/deploys', '/deploys/live', '/settings', '/access'];

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('every page renders its data on the server', async ({ page }) => {
    await page.goto('/batteries');
    await expect(page.getByTestId('battery-redis')).toContainText('Redis');
    await page.goto('/batteries/redis');
    await expect(page.getByTestId('config-form')).toBeVisible();
    // Inputs carry their values as attributes, not only as DOM properties.
    await expect(page.getByLabel('Redis image')).not.toHaveValue('');
    await page.goto('/deploys');
    await expect(page.getByTestId('snapshot-row').first()).toBeVisible();
    await page.goto('/deploys/live');
    await expect(page.getByTestId('connection')).toHaveText('connecting…');
    await page.goto('/');
    await expect(page.getByTestId('installed-battery_core')).toBeVisible();
    await page.goto('/settings');
    await expect(page.getByTestId('settings')).toBeVisible();
  });
});

for (const width of [390, 1280]) {
  test(`no page overflows sideways at ${width} px`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    for (const path of PAGES) {
      await page.goto(path);
      // NB: on failure, say which page and what the browser shows instead.
      await expect(page.locator('[data-hydrated="true"]'), `${path} at ${width} px hydrates`)
        .toHaveCount(1, { timeout: 30_000 })
        .catch(async (error: Error) => {
          const shown = await page.evaluate(() => ({
            url: location.href,
            title: document.title,
            hydrated: [...document.querySelectorAll('[data-hydrated]')].map((e) => e.getAttribute('data-hydrated')),
            text: document.body?.innerText.slice(0, 600),
          }));
          throw new Error(`${error.message}\nthe browser shows: ${JSON.stringify(shown, null, 2)}`);
        });
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, `${path} at ${width} px`).toBeLessThanOrEqual(0);
    }
    await page.goto('/batteries');
    await screenshot(page, `batteries-${width}`);
  });
}

test('the dashboard paints its content quickly', async ({ page }) => {
  await page.goto('/');
  const paint = await page.waitForFunction(
    () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
  );
  const fcp = Math.round(Number(await paint.jsonValue()));
  test.info().annotations.push({ type: 'first-contentful-paint-ms', description: String(fcp) });
  console.log(`dashboard first contentful paint: ${fcp} ms`);
  // The server renders the data, so the first paint is the meaningful one.
  await expect(page.getByTestId('installed-batteries')).toBeVisible();
  expect(fcp).toBeLessThan(5_000);
});
