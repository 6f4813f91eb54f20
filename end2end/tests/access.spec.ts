// Signing in, working, and signing out in Chromium; an admin adds a viewer
// and creates a token on the Users and access page; the viewer reads but
// is offered no changes, and the server refuses them anyway.
import { expect, type Page } from '@playwright/test';
import { test, anonymous, open, screenshot, pageHeaders } from './journeys';
import { ADMIN } from '../global-setup';

test.use({ baseURL: process.env.BI_BASE_URL });

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('a user signs in, works, and signs out', async ({ browser }) => {
  const page = await anonymous(browser);
  await page.goto('/batteries');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fbatteries$/);
  await expect(page.getByRole('heading', { name: 'Sign in to bi' })).toBeVisible();

  await signIn(page, ADMIN.username, 'not the password');
  await expect(page.getByRole('alert')).toContainText('wrong username or password');

  await signIn(page, ADMIN.username, ADMIN.password);
  await expect(page).toHaveURL(/\/batteries$/);
  await expect(page.locator('[data-hydrated="true"]')).toHaveCount(1);
  await expect(page.getByTestId('signed-in-as')).toContainText(ADMIN.username);
  await expect(page.getByTestId('signed-in-role')).toHaveText('admin');

  // Work: an admin adds a viewer and makes a token for scripts.
  await open(page, '/access');
  const users = page.getByTestId('users');
  await users.locator('input[name="new-username"]').fill('reader');
  await users.locator('input[name="new-password"]').fill('reader password 1');
  await users.locator('select[name="new-role"]').selectOption('viewer');
  await users.getByRole('button', { name: 'Add user' }).click();
  await expect(users.locator('[data-username="reader"]')).toContainText('enabled');

  const tokens = page.getByTestId('tokens');
  await tokens.locator('input[name="token-name"]').fill('e2e-ci');
  await tokens.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.getByTestId('new-token').textContent()) ?? '';
  expect(secret).toMatch(/^bi_[A-Za-z0-9_-]{43}$/);
  await expect(tokens.getByTestId('token-row').filter({ hasText: 'e2e-ci' })).toContainText('active');
  // The token works for a script, and the listing never shows it again.
  const me = await page.request.get('/api/v1/me', { headers: { Authorization: `Bearer ${secret}` } });
  expect((await me.json()).credential).toEqual({ kind: 'token', name: 'e2e-ci' });
  await page.reload();
  await expect(page.getByTestId('tokens')).not.toContainText(secret);
  await screenshot(page, 'users-and-access');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in\?next=%2F$/);
  await page.context().close();
});

test('a viewer reads everything and is offered no changes', async ({ browser }) => {
  const page = await anonymous(browser);
  await page.goto('/sign-in');
  await signIn(page, 'reader', 'reader password 1');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('signed-in-role')).toHaveText('viewer');

  await open(page, '/batteries/grafana');
  await expect(page.getByRole('heading', { name: 'Grafana' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Install' })).toHaveCount(0);
  await expect(page.getByTestId('read-only')).toBeVisible();

  await open(page, '/access');
  await expect(page.getByTestId('users')).toHaveCount(0);

  // The server refuses what the page does not offer.
  const refused = await page.request.post('/api/batteries/install', {
    form: { kind: 'grafana', config: '{}' },
    headers: await pageHeaders(page.request),
  });
  expect(refused.status()).toBe(403);
  const error = (await refused.json()).error;
  expect(error.code).toBe('forbidden');
  // Refused for the role, not for a missing CSRF token.
  expect(error.message).toContain('needs the editor role');

  // The viewer changes their own password; this browser stays signed in,
  // and the new password is the one that signs in.
  await open(page, '/access');
  const password = page.getByTestId('password');
  await password.locator('input[name="current_password"]').fill('reader password 1');
  await password.locator('input[name="new_password"]').fill('reader password 2');
  await password.locator('input[name="new_password_again"]').fill('reader password 2');
  await password.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByTestId('password-changed')).toBeVisible();
  await open(page, '/access');
  await expect(page.getByTestId('signed-in-role')).toHaveText('viewer');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await signIn(page, 'reader', 'reader password 1');
  await expect(page.getByRole('alert')).toContainText('wrong username or password');
  await signIn(page, 'reader', 'reader password 2');
  await expect(page.getByTestId('signed-in-role')).toHaveText('viewer');
  await page.context().close();
});
