// Services: every Knative service of every project, scaled in place.
import { test, expect } from '@playwright/test';
import { ensureInstalled, open, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('a Knative service is listed and scaled from the services page', async ({ page }) => {
  test.setTimeout(180_000);
  await ensureInstalled(page, 'knative');
  await open(page, '/projects');
  await page.getByLabel('New project').fill('api-team');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('projects').getByRole('link', { name: 'api-team' }).click();
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);
  const knative = page.getByTestId('add-knative');
  await knative.getByLabel('Name').fill('gateway');
  await knative.getByLabel('Image').fill('ghcr.io/example/gateway:2.1');
  await knative.getByRole('button', { name: 'Add service' }).click();
  await expect(page.getByTestId('object-gateway')).toBeVisible();

  await open(page, '/services');
  const service = page.getByTestId('service-gateway');
  await expect(service.getByTestId('service-scale')).toHaveText('0–10 instances');
  await service.getByLabel('max').fill('many');
  await expect(service.getByRole('button', { name: 'Scale' })).toBeDisabled();
  await service.getByLabel('min').fill('1');
  await service.getByLabel('max').fill('3');
  await service.getByRole('button', { name: 'Scale' }).click();
  await expect(service.getByTestId('service-scale')).toHaveText('1–3 instances');
  await screenshot(page, 'services');
});
