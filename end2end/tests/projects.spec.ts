// Journey (b): install what projects need through the UI, create a
// project, add a PostgreSQL cluster and a Knative service, change a size.
import { expect } from '@playwright/test';
import { test, ensureInstalled, open, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });
test.describe.configure({ mode: 'serial' });

test('create a project with a PostgreSQL cluster and a Knative service, then resize', async ({ page }) => {
  test.setTimeout(240_000);
  await ensureInstalled(page, 'cloudnative_pg');
  await ensureInstalled(page, 'knative');

  await open(page, '/projects');
  const name = page.getByLabel('New project');
  await name.fill('Shop!');
  await expect(page.getByTestId('error-project-name')).not.toBeEmpty();
  await expect(page.getByRole('button', { name: 'Create' })).toBeDisabled();
  await name.fill('shop');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('projects').getByRole('link', { name: 'shop' }).click();
  await expect(page).toHaveURL(/\/projects\/shop$/);
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);

  const postgres = page.getByTestId('add-postgres');
  await postgres.getByLabel('Name').fill('orders');
  await postgres.getByLabel('Storage').fill('500');
  await expect(page.getByTestId('error-pg-storage')).not.toBeEmpty();
  await expect(postgres.getByRole('button', { name: 'Add cluster' })).toBeDisabled();
  await postgres.getByLabel('Storage').fill('1Gi');
  // The preview beside the form: the cluster's objects, created.
  const preview = page.getByTestId('add-objects').locator('[role=tabpanel]:not([hidden])').getByTestId('change-preview');
  await expect(preview.getByTestId('preview-summary')).toContainText(/[1-9]\d* to create/);
  await postgres.getByRole('button', { name: 'Add cluster' }).click();
  const orders = page.getByTestId('object-orders');
  await expect(orders).toContainText('postgres cluster');
  await expect(orders.getByTestId('object-storage')).toHaveText('1Gi');

  await page.getByTestId('tab-knative').click();
  const knative = page.getByTestId('add-knative');
  await knative.getByLabel('Name').fill('web');
  await knative.getByLabel('Image').fill('ghcr.io/example/web:1.0');
  await knative.getByRole('button', { name: 'Add service' }).click();
  await expect(page.getByTestId('object-web')).toContainText('knative service');

  await orders.getByLabel('Storage').fill('2Gi');
  await orders.getByRole('button', { name: 'Change size' }).click();
  await expect(orders.getByTestId('object-storage')).toHaveText('2Gi');
  await screenshot(page, 'project-shop');

  // The service keeps Knative installed: uninstalling it is refused by name.
  await open(page, '/batteries/knative');
  await page.getByRole('button', { name: 'Uninstall…' }).click();
  await page.getByRole('button', { name: 'Yes, uninstall' }).click();
  await expect(page.getByRole('alert')).toContainText('web');
});
