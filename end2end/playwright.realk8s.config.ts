// The browser tests that run against a real kube-apiserver instead of the
// sandbox (global-setup-realk8s.ts): `npx playwright test -c playwright.realk8s.config.ts`.
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './realk8s',
  globalSetup: './global-setup-realk8s.ts',
});
