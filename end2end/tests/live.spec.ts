// The live plan viewer: it shows the latest snapshot and, when the
// connection drops, reconnects by itself from the last event it saw.
import { expect } from '@playwright/test';
import { test, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('the live viewer reconnects after a dropped connection and resumes from the last event', async ({ page }) => {
  const urls: string[] = [];
  await page.routeWebSocket(/\/api\/v1\/events/, (ws) => {
    urls.push(ws.url());
    ws.connectToServer();
    // Drop the first connection once the replay has arrived.
    if (urls.length === 1) setTimeout(() => ws.close(), 1_500);
  });
  await page.goto('/deploys/live');
  await expect(page.getByTestId('live-summary')).toContainText('Done:');
  await expect.poll(() => urls.length, { timeout: 15_000 }).toBeGreaterThan(1);
  expect(urls[0]).toMatch(/since=latest$/);
  expect(urls[1]).toMatch(/since=\d+$/);
  await expect(page.getByTestId('connection')).toHaveText('live');
  await expect(page.getByTestId('live-summary')).toContainText('Done:');
  await screenshot(page, 'live-reconnected');
});
