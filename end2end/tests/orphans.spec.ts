// Orphans: an object labelled as bi's that no inventory knows (here planted
// straight into the sandbox, as another bi or a lost database would leave it)
// is shown on the Deploys page and deleted in one click, by a snapshot of
// its own; snapshots never delete it by themselves.
import { expect, request as playwrightRequest } from '@playwright/test';
import { test, open, sandboxUrl, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test('an orphan is shown on the Deploys page and deleted in one click', async ({ page }) => {
  test.setTimeout(120_000);
  const cluster = await playwrightRequest.newContext({ baseURL: sandboxUrl() });
  const planted = await cluster.post('/api/v1/namespaces/default/secrets', {
    data: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'e2e-left-behind', labels: { 'battery/managed': 'true' } },
      stringData: { left: 'behind' },
    },
  });
  expect(planted.status(), await planted.text()).toBe(201);

  await open(page, '/deploys');
  const orphans = page.getByTestId('orphans');
  await expect(orphans).toContainText('1 orphaned object');
  await expect(orphans.getByTestId('orphan')).toHaveText(['v1/Secret/default/e2e-left-behind']);
  await screenshot(page, 'orphans');

  await orphans.getByRole('button', { name: 'Delete them' }).click();
  await expect(page.getByTestId('orphans-pruned')).toContainText(/Snapshot \d+ deleted 1 orphan\./, {
    timeout: 60_000,
  });
  await expect(page.getByTestId('orphans')).toHaveCount(0);
  const gone = await cluster.get('/api/v1/namespaces/default/secrets/e2e-left-behind');
  expect(gone.status()).toBe(404);

  // The deletion is in the history, as a snapshot of its own.
  await open(page, '/deploys');
  await expect(page.getByTestId('snapshot-row').first()).toContainText('prune-orphans');
  await cluster.dispose();
});
