// bi's browser tests: Playwright drives Debian's Chromium (never a downloaded
// browser) against a `bi serve` that global-setup.ts starts on a free port
// with a temporary data directory.
import { defineConfig } from '@playwright/test';
import { join } from 'node:path';

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  // One bi server is shared by the tests, and some of them change it.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      // Without the background-networking flags Chromium keeps dialling hosts
      // this machine's closed network refuses.
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    // The first admin's session, which global-setup.ts creates.
    storageState: join(__dirname, '.auth', 'admin.json'),
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
