// Services: every Knative service of every project, scaled in place.
import { expect } from '@playwright/test';
import { test, ensureInstalled, open, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('a Knative service is listed and scaled from the services page', async ({ page }) => {
  test.setTimeout(180_000);
  await ensureInstalled(page, 'knative');
  await open(page, '/projects');
  await page.getByLabel('New project').fill('api-team');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('projects').getByRole('link', { name: 'api-team' }).click();
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);
  await page.getByTestId('tab-knative').click();
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

  // Its page: Knative's own Ready condition and the URL it serves at.
  await expect(async () => {
    await open(page, '/services/gateway');
    await expect(page.getByTestId('service-readiness')).toContainText('ready', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId('service-status')).toContainText('http://gateway.battery-knative.svc.cluster.local');
  await expect(page.getByTestId('service-form').getByLabel('Max instances')).toHaveValue('3');
});

test('a traditional service that does not fit is explained before it is added', async ({ page }) => {
  test.setTimeout(180_000);
  await ensureInstalled(page, 'traditional_services');
  await open(page, '/projects');
  await page.getByLabel('New project').fill('web-team');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('projects').getByRole('link', { name: 'web-team' }).click();
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);

  await page.getByTestId('tab-traditional').click();
  const form = page.getByTestId('add-traditional');
  await form.getByLabel('Name').fill('shop');
  await form.getByLabel('Image').fill('nginx:1.27');
  await form.getByLabel('Memory per replica').fill('500');
  await expect(page.getByTestId('error-tr-memory')).toContainText('no unit');
  await expect(form.getByRole('button', { name: 'Add service' })).toBeDisabled();
  // The sandbox's three nodes offer 48 GiB: 100 × 1 GiB does not fit.
  await form.getByLabel('Memory per replica').fill('1Gi');
  await form.getByLabel('Replicas').fill('100');
  await expect(page.getByTestId('tr-capacity')).toContainText('100');
  await expect(page.getByTestId('tr-capacity')).toContainText('left');
  await screenshot(page, 'service-does-not-fit');
  await form.getByLabel('Replicas').fill('2');
  await expect(page.getByTestId('tr-capacity')).toHaveCount(0);
  await form.getByRole('button', { name: 'Add service' }).click();
  await expect(page.getByTestId('object-shop')).toContainText('traditional service');

  await open(page, '/services');
  await expect(page.getByTestId('service-shop').getByTestId('service-scale')).toContainText('2');
});
