// The explorer and the timeline against a real kube-apiserver with
// kube-controller-manager (global-setup-realk8s.ts): real watches, the
// ReplicaSet and Pod the controller manager makes for bi's Deployment (the
// Pod stays Pending for ever: no node runs it, so no log either), an object
// made with kubectl appearing live, and the cluster's own Events and one
// made with kubectl on the timeline.
import { expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { test, ensureInstalled, open, screenshot } from '../tests/journeys';

test.use({ baseURL: process.env.BI_BASE_URL });
test.skip(!!process.env.BI_E2E_NO_REALK8S, 'no real API server beside the clone');

function kubectl(args: string[], input?: string): string {
  return execFileSync(process.env.BI_E2E_KUBECTL!, ['--kubeconfig', process.env.BI_E2E_KUBECONFIG!, ...args], {
    encoding: 'utf8',
    input,
  });
}

test('the explorer and the timeline follow a real API server', async ({ page }) => {
  test.setTimeout(300_000);
  await ensureInstalled(page, 'timeline');
  await ensureInstalled(page, 'redis');

  // bi's Deployment as the real server reports it, and what the controller
  // manager made for it.
  await open(page, '/explorer?kind=apps/v1/Deployment&app=redis');
  const rows = page.getByTestId('explorer-row');
  await expect(rows.filter({ hasText: 'redis-operator' }).getByTestId('explorer-status')).toHaveText('0/1 ready');
  await open(page, '/explorer?kind=apps/v1/ReplicaSet&namespace=battery-base');
  await expect(rows.filter({ hasText: 'redis-operator-' })).toHaveCount(1, { timeout: 30_000 });
  await open(page, '/explorer?kind=v1/Pod&namespace=battery-base');
  const pod = rows.filter({ hasText: 'redis-operator-' }).first();
  await expect(pod.getByTestId('explorer-status')).toHaveText('Pending', { timeout: 30_000 });
  await screenshot(page, 'realk8s-explorer-pods');

  // Made with kubectl while the page is open: it appears without a reload.
  await open(page, '/explorer?kind=v1/ConfigMap&namespace=default');
  await expect(rows.filter({ hasText: 'e2e-real' })).toHaveCount(0);
  kubectl(['create', 'configmap', 'e2e-real', '-n', 'default', '--from-literal=a=b']);
  await expect(rows.filter({ hasText: 'e2e-real' })).toHaveCount(1, { timeout: 15_000 });

  // The controller manager's own Event about bi's Deployment, with its battery.
  await open(page, '/timeline?battery=redis&category=event');
  await expect(page.getByTestId('timeline-entry').filter({ hasText: 'ScalingReplicaSet' }).first()).toBeVisible({
    timeout: 30_000,
  });
  // One made with kubectl, a warning, arrives on the open page.
  const reason = `E2eReal${Date.now()}`;
  kubectl(
    ['create', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `redis-operator.${Date.now()}`, namespace: 'battery-base' },
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'battery-base', name: 'redis-operator' },
      reason,
      message: 'made with kubectl by the browser test',
      type: 'Warning',
      count: 1,
      lastTimestamp: new Date().toISOString(),
      source: { component: 'e2e' },
    }),
  );
  const made = page.getByTestId('timeline-entry').filter({ hasText: reason });
  await expect(made).toBeVisible({ timeout: 30_000 });
  await expect(made).toHaveAttribute('data-warning', 'true');
  await screenshot(page, 'realk8s-timeline');
});
