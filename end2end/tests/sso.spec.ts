// Single Sign-On: installing it makes the engine create bi's realm, groups,
// clients and first administrator in Keycloak (here the sandbox Keycloak
// `bi serve` starts beside the sandbox cluster, which speaks the same Admin
// REST API and OIDC endpoints); that administrator then signs in to bi
// through the OIDC flow with PKCE, changes the initial password Keycloak
// asks them to, and lands in bi with the role of their Keycloak group.
import { expect, request } from '@playwright/test';
import { test, anonymous, ensureInstalled, open, screenshot } from './journeys';
import { ADMIN } from '../global-setup';

test.use({ baseURL: process.env.BI_BASE_URL });

test('a Keycloak user signs in to bi through single sign-on with the role of their group', async ({
  page,
  browser,
}) => {
  test.setTimeout(180_000);
  await ensureInstalled(page, 'sso');

  // The initial password goes to a token (the CLI's `bi sso initial-password`), never to a browser.
  const cli = await request.newContext({
    baseURL: process.env.BI_BASE_URL,
    storageState: { cookies: [], origins: [] },
  });
  const login = await cli.post('/api/v1/login', {
    data: { username: ADMIN.username, password: ADMIN.password, token_name: 'e2e-sso' },
  });
  expect(login.ok()).toBeTruthy();
  const token = (await login.json()).token as string;
  const refused = await page.request.get('/api/v1/sso/initial-password');
  expect(refused.status()).toBe(403);
  const initial = await cli.get('/api/v1/sso/initial-password', {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(initial.ok()).toBeTruthy();
  const { username, password } = (await initial.json()) as { username: string; password: string };
  expect(username).toBe('admin');

  const visitor = await anonymous(browser);
  await visitor.goto('/sign-in?next=/batteries');
  await visitor.getByTestId('sso-sign-in').click();

  // Keycloak's own pages, on Keycloak's address.
  await expect(visitor).toHaveURL(/\/realms\/batterycore\/protocol\/openid-connect\/auth\?/);
  const keycloak = new URL(visitor.url());
  expect(keycloak.searchParams.get('code_challenge_method')).toBe('S256');
  expect(keycloak.searchParams.get('client_id')).toBe('bi');
  await expect(visitor.getByRole('heading', { name: 'Sign in to your account' })).toBeVisible();
  await visitor.getByLabel('Username or email').fill(username);
  await visitor.getByLabel('Password').fill('not the password');
  await visitor.getByRole('button', { name: 'Sign In' }).click();
  await expect(visitor.locator('#input-error')).toHaveText('Invalid username or password.');
  await visitor.getByLabel('Username or email').fill(username);
  await visitor.getByLabel('Password').fill(password);
  await visitor.getByRole('button', { name: 'Sign In' }).click();
  await expect(visitor.getByRole('heading', { name: 'Update password' })).toBeVisible();
  await visitor.getByLabel('New Password').fill('a new sso password');
  await visitor.getByLabel('Confirm password').fill('a new sso password');
  await visitor.getByRole('button', { name: 'Submit' }).click();

  // Back in bi, where they were going, as sso:admin with the role bi-admins gives.
  await expect(visitor).toHaveURL(new RegExp(`^${process.env.BI_BASE_URL}/batteries$`));
  await expect(visitor.locator('[data-hydrated="true"]')).toHaveCount(1);
  await expect(visitor.getByTestId('signed-in-as')).toContainText('sso:admin');
  await expect(visitor.getByTestId('signed-in-role')).toHaveText('admin');
  await screenshot(visitor, 'sso-signed-in');

  // The callback is good once: replaying it is refused.
  await visitor.goto('/auth/oidc/callback?code=used&state=replayed');
  await expect(visitor.getByRole('alert')).toContainText('expired or was already used');
  await visitor.context().close();
});

test('an admin adds a Keycloak user on Users and access, who signs in as an editor', async ({
  page,
  browser,
}) => {
  test.setTimeout(180_000);
  await ensureInstalled(page, 'sso');
  await open(page, '/access');
  const card = page.getByTestId('sso');
  await expect(card.locator('[data-username="admin"]')).toContainText('bi');
  await expect(card.getByTestId('sso-client').filter({ hasText: 'http://127.0.0.1:*' })).toHaveCount(1);
  await card.locator('input[name="sso-username"]').fill('dana');
  await card.locator('input[name="sso-email"]').fill('dana@example.com');
  await card.locator('input[name="sso-password"]').fill('short');
  await card.locator('select[name="sso-role"]').selectOption('editor');
  await card.getByRole('button', { name: 'Add SSO user' }).click();
  await expect(card).toContainText('at least 12');
  await card.locator('input[name="sso-password"]').fill('dana first password');
  await card.getByRole('button', { name: 'Add SSO user' }).click();
  const dana = card.locator('[data-username="dana"]');
  await expect(dana).toContainText('UPDATE_PASSWORD');
  await expect(dana.getByLabel('SSO role of dana')).toHaveValue('editor');
  await screenshot(page, 'sso-users');

  const visitor = await anonymous(browser);
  await visitor.goto('/sign-in');
  await visitor.getByTestId('sso-sign-in').click();
  await visitor.getByLabel('Username or email').fill('dana@example.com');
  await visitor.getByLabel('Password').fill('dana first password');
  await visitor.getByRole('button', { name: 'Sign In' }).click();
  await visitor.getByLabel('New Password').fill('dana second password');
  await visitor.getByLabel('Confirm password').fill('dana second password');
  await visitor.getByRole('button', { name: 'Submit' }).click();
  await expect(visitor.locator('[data-hydrated="true"]')).toHaveCount(1);
  await expect(visitor.getByTestId('signed-in-as')).toContainText('sso:dana');
  await expect(visitor.getByTestId('signed-in-role')).toHaveText('editor');
  await visitor.context().close();

  // Disabled in Keycloak, dana's next sign-in is refused there.
  await dana.getByRole('button', { name: 'Disable' }).click();
  await expect(dana).toContainText('disabled');
  const again = await anonymous(browser);
  await again.goto('/sign-in');
  await again.getByTestId('sso-sign-in').click();
  await again.getByLabel('Username or email').fill('dana');
  await again.getByLabel('Password').fill('dana second password');
  await again.getByRole('button', { name: 'Sign In' }).click();
  await expect(again.locator('#input-error')).toHaveText('Account is disabled, contact your administrator.');
  await again.context().close();
});
