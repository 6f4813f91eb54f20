// Reach: with the ingress gateway installed, the dashboard links each
// battery UI at its hostname under the installation domain, and following
// Grafana's link opens exactly the host its HTTPRoute (read back from the
// cluster) routes. Nothing answers at that host in the sandbox, so the
// browser's request is answered by the test; what is checked is where the
// link goes.
import { expect, request as playwrightRequest } from '@playwright/test';
import { test, open, ensureInstalled, sandboxUrl, screenshot } from './journeys';

test.use({ baseURL: process.env.BI_BASE_URL });

test("the dashboard links Grafana at the host its route serves, and the link goes there", async ({ page }) => {
  test.setTimeout(240_000);
  await ensureInstalled(page, 'istio_gateway');
  await ensureInstalled(page, 'grafana');

  // The route bi applied, as the cluster has it.
  const cluster = await playwrightRequest.newContext({ baseURL: sandboxUrl() });
  const answer = await cluster.get(
    '/apis/gateway.networking.k8s.io/v1/namespaces/battery-monitoring/httproutes/grafana',
  );
  expect(answer.status(), await answer.text()).toBe(200);
  const route = await answer.json();
  const host: string = route.spec.hostnames[0];
  expect(host).toBe('grafana.bi.localhost');
  expect(route.spec.parentRefs[0]).toMatchObject({ name: 'bi', sectionName: 'https' });
  await cluster.dispose();

  await open(page, '/');
  const card = page.getByTestId('open');
  await expect(card.getByTestId('domain')).toHaveText('bi.localhost');
  const link = card.getByTestId(`open-${host}`);
  await expect(link).toHaveAttribute('href', `https://${host}/`);
  // The sandbox runs no gateway controller: applied, not yet accepted.
  await expect(card.getByTestId('address').filter({ hasText: host }).getByTestId('route-status')).toHaveText(
    'pending',
  );
  await expect(card.getByTestId('ca-download')).toHaveAttribute('href', '/api/v1/ca.crt');
  await screenshot(page, 'reach-dashboard');

  // Follow the link: the browser asks for exactly the routed host.
  const asked: string[] = [];
  await page.context().route(`https://${host}/**`, async (request) => {
    asked.push(new URL(request.request().url()).hostname);
    await request.fulfill({ status: 200, contentType: 'text/html', body: '<title>stand-in for Grafana</title>' });
  });
  const [tab] = await Promise.all([page.waitForEvent('popup'), link.click()]);
  await tab.waitForLoadState();
  expect(new URL(tab.url()).hostname).toBe(host);
  expect(asked).toContain(host);
  await tab.close();

  // Grafana's own page shows the same address.
  await open(page, '/batteries/grafana');
  await expect(page.getByTestId('battery-addresses').getByTestId(`open-${host}`)).toBeVisible();
});
