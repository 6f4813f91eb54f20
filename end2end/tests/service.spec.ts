// One service's page: edit a traditional service's image, environment
// (a key of its database's connection Secret, and a literal) and ports,
// with every mistake shown under its field; save, watch it apply, and see
// its status, the cluster's Events and bi's writes.
import { expect } from '@playwright/test';
import { test, ensureInstalled, open, screenshot, waitForDone } from './journeys';
import { STORAGE_STATE } from '../global-setup';

test.use({ baseURL: process.env.BI_BASE_URL });

// NB: the service is opened right after it is added, while the snapshot that
// creates it may still run: the preview's base is then pending and reloads
// until that snapshot succeeds, and only then plans the edit as updates.
test('edit a service: image, a connection Secret in its environment, a port; then its status and events', async ({ page }) => {
  test.setTimeout(300_000);
  await ensureInstalled(page, 'cloudnative_pg');
  await ensureInstalled(page, 'traditional_services');

  await open(page, '/projects');
  await page.getByLabel('New project').fill('orders-team');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('projects').getByRole('link', { name: 'orders-team' }).click();
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);
  await expect(page.locator('[data-page-hydrated="false"]')).toHaveCount(0);

  const postgres = page.getByTestId('add-postgres');
  await postgres.getByLabel('Name').fill('ordersdb');
  await expect(postgres.getByLabel('App user and database')).toHaveValue('app');
  await postgres.getByRole('button', { name: 'Add cluster' }).click();
  await expect(page.getByTestId('object-ordersdb')).toContainText('postgres cluster');

  await page.getByTestId('tab-traditional').click();
  const add = page.getByTestId('add-traditional');
  await add.getByLabel('Name').fill('api');
  await add.getByLabel('Image').fill('nginx:1.27');
  await add.getByRole('button', { name: 'Add service' }).click();
  await expect(page.getByTestId('object-api')).toContainText('traditional service');
  await page.getByTestId('object-api').getByRole('link', { name: 'api' }).click();

  await expect(page).toHaveURL(/\/services\/api$/);
  // NB: edit once the service is created: an edit saved while the snapshot
  // that creates it still runs is applied by one snapshot with it (created,
  // never updated), and the outcomes at the end would say nothing else.
  await expect(async () => {
    await open(page, '/services/api');
    await expect(page.getByTestId('service-outcomes')).toContainText('created', { timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await expect(page.locator('[data-page-hydrated="false"]')).toHaveCount(0);
  const form = page.getByTestId('service-form');
  const save = form.getByRole('button', { name: 'Save' });
  await expect(save).toBeDisabled();

  // A bad image: the error under the field, Save stays disabled.
  await form.getByLabel('Image').fill('Not An Image');
  await expect(page.getByTestId('error-svc-image')).not.toBeEmpty();
  await expect(save).toBeDisabled();
  await form.getByLabel('Image').fill('nginx:1.28');
  await expect(page.getByTestId('error-svc-image')).toBeEmpty();

  // The database's connection Secret, one click away: names and keys only.
  const secrets = page.getByTestId('connection-secrets');
  await expect(secrets).toContainText('postgres-ordersdb-app-connection');
  await expect(secrets).not.toContainText('postgres://');
  await page.getByTestId('use-postgres-ordersdb-app-connection-url').click();
  await expect(form.getByLabel('Variable 1 name')).toHaveValue('POSTGRES_ORDERSDB_URL');
  await expect(form.getByLabel('Variable 1 Secret')).toHaveValue('postgres-ordersdb-app-connection');
  await expect(form.getByLabel('Variable 1 key')).toHaveValue('url');

  // A literal with a bad name, then fixed.
  await form.getByRole('button', { name: 'Add variable' }).click();
  await form.getByLabel('Variable 2 name').fill('LOG LEVEL');
  await form.getByLabel('Variable 2 value').fill('debug');
  await expect(page.getByTestId('error-svc-env-1-name')).not.toBeEmpty();
  await expect(save).toBeDisabled();
  await form.getByLabel('Variable 2 name').fill('LOG_LEVEL');
  await expect(page.getByTestId('error-svc-env-1-name')).toBeEmpty();

  // A second port reusing the first one's number is refused under it.
  await form.getByRole('button', { name: 'Add port' }).click();
  await form.getByLabel('Port 2 name').fill('metrics');
  await form.getByLabel('Port 2 number').fill('8080');
  await expect(page.getByTestId('error-svc-port-1-number')).toContainText('already used');
  await form.getByLabel('Port 2 number').fill('9090');
  await form.getByLabel('Port 2 protocol').selectOption('tcp');
  await expect(save).toBeEnabled();

  // What saving does, before saving: the Deployment and its Service change,
  // and the Deployment's new variable reads the Secret, not its value.
  const preview = page.getByTestId('change-preview');
  await expect(preview.getByTestId('preview-summary')).toContainText(/[1-9]\d* to update/);
  const deployment = preview.getByTestId('preview-item').filter({ hasText: 'Deployment battery-traditional/api' });
  await deployment.getByRole('button').click();
  await expect(deployment.getByTestId('preview-yaml')).toContainText('secretKeyRef');
  await expect(deployment.getByTestId('preview-yaml')).toContainText('nginx:1.28');
  await screenshot(page, 'service-edit');

  await save.click();
  await waitForDone(page);
  await expect(page.getByTestId('live-phase')).toContainText('succeeded');

  await expect(async () => {
    await open(page, '/services/api');
    await expect(page.getByTestId('service-readiness')).toContainText('ready', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByTestId('service-form').getByLabel('Image')).toHaveValue('nginx:1.28');
  await expect(page.getByTestId('service-form').getByLabel('Variable 2 name')).toHaveValue('LOG_LEVEL');
  await expect(page.getByTestId('service-form').getByLabel('Port 2 number')).toHaveValue('9090');
  await expect(page.getByTestId('service-events')).toContainText('ScalingReplicaSet');
  await expect(page.getByTestId('service-outcomes')).toContainText('updated');
  await screenshot(page, 'service-status');
});

test('the service page reads without JavaScript and fits a phone', async ({ browser, page }) => {
  const reader = await browser.newContext({
    javaScriptEnabled: false,
    baseURL: process.env.BI_BASE_URL,
    storageState: STORAGE_STATE,
  });
  const plain = await reader.newPage();
  await plain.goto('/services/api');
  await expect(plain.getByTestId('service-form').getByLabel('Image')).toHaveValue('nginx:1.28');
  await expect(plain.getByTestId('service-form').getByLabel('Variable 1 Secret')).toHaveValue('postgres-ordersdb-app-connection');
  await expect(plain.getByTestId('service-events')).toContainText('ScalingReplicaSet');
  await reader.close();

  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await open(page, '/services/api');
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow, `/services/api at ${width} px`).toBeLessThanOrEqual(0);
    await screenshot(page, `service-${width}`);
  }
});

test('removing a database a service reads says so first; removing the service, then the database', async ({ page }) => {
  await open(page, '/projects/orders-team');
  const database = page.getByTestId('object-ordersdb');
  await database.getByRole('button', { name: 'Remove…' }).click();
  await expect(database.getByTestId('remove-readers')).toContainText('api');
  await screenshot(page, 'remove-database-warning');
  await database.getByRole('button', { name: 'Cancel' }).click();
  await expect(database.getByTestId('confirm-remove')).toHaveCount(0);

  const service = page.getByTestId('object-api');
  await service.getByRole('button', { name: 'Remove…' }).click();
  await expect(service.getByTestId('remove-readers')).toHaveCount(0);
  await service.getByRole('button', { name: 'Remove api' }).click();
  await expect(page.getByTestId('object-api')).toHaveCount(0);

  await database.getByRole('button', { name: 'Remove…' }).click();
  await expect(database.getByTestId('remove-readers')).toHaveCount(0);
  await database.getByRole('button', { name: 'Remove ordersdb' }).click();
  await expect(page.getByTestId('object-ordersdb')).toHaveCount(0);
  await open(page, '/services/api');
  await expect(page.getByRole('alert')).toContainText('no service named "api"');
});
