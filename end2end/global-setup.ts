// Starts `bi serve` on 127.0.0.1:0 with a fresh data directory, reads the
// address it bound and the one-time setup link from its output, creates the
// first admin through the set-up form (as a browser would), and keeps the
// admin's session cookie for the tests (STORAGE_STATE). Hands the address
// to the tests as BI_BASE_URL. Teardown stops bi with SIGTERM and fails if
// it does not exit cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const START_TIMEOUT_MS = 60_000;

/** Where the admin's session is kept for the tests (playwright.config.ts). */
export const STORAGE_STATE = join(__dirname, '.auth', 'admin.json');

/** The first admin the set-up creates. */
export const ADMIN = { username: 'admin', password: 'e2e admin password' };
const STOP_TIMEOUT_MS = 15_000;

function binaryPath(): string {
  if (process.env.BI_E2E_BINARY) return resolve(process.env.BI_E2E_BINARY);
  const targetDir = process.env.CARGO_TARGET_DIR ?? resolve(__dirname, '..', 'target');
  return join(targetDir, 'debug', 'bi');
}

function waitForListening(child: ChildProcess, log: string[]): Promise<{ url: string; setup: string }> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`bi did not start within ${START_TIMEOUT_MS} ms:\n${log.join('')}`)),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      log.push(text);
      if (process.env.BI_E2E_VERBOSE) process.stderr.write(text);
      const all = log.join('');
      const match = /bi is listening on (http:\/\/[0-9.]+:\d+)/.exec(all);
      const setup = /create the first admin at (\S+)/.exec(all);
      if (match && setup) {
        clearTimeout(timer);
        resolvePromise({ url: match[1], setup: setup[1] });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bi exited with ${code} before listening:\n${log.join('')}`));
    });
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  return startBi([]);
}

/** Starts `bi serve` with `extra` arguments (a kubeconfig, say), creates
 * the first admin, and returns the teardown that stops it. */
export async function startBi(extra: string[]): Promise<() => Promise<void>> {
  const binary = binaryPath();
  if (!existsSync(binary)) {
    throw new Error(`no bi binary at ${binary}: build it with \`make build-debug\` or set BI_E2E_BINARY`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'bi-e2e-'));
  const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...extra];
  if (process.env.BI_E2E_SITE_ROOT) args.push('--site-root', resolve(process.env.BI_E2E_SITE_ROOT));
  // The server must not see the harness's own variables (it would warn about them)
  // nor a database URL meant for something else.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.startsWith('BI_E2E_') && key !== 'BI_DATABASE_URL' && key !== 'BI_CONFIG',
    ),
  );
  const child = spawn(binary, args, { env: { ...env, BI_LOG: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const { url: baseUrl, setup } = await waitForListening(child, log);
  process.env.BI_BASE_URL = baseUrl;
  await createAdmin(baseUrl, setup);
  process.env.BI_E2E_DATA_DIR = dataDir;

  return async () => {
    const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
    child.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_TIMEOUT_MS)),
    ]);
    rmSync(dataDir, { recursive: true, force: true });
    if (code === 'timeout') {
      child.kill('SIGKILL');
      throw new Error(`bi did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
    }
    if (code !== 0) throw new Error(`bi exited with ${code} after SIGTERM:\n${log.join('')}`);
  };
}

/** Creates the first admin through the set-up form and keeps the session
 * cookie it answers with, as Playwright's storage state. */
async function createAdmin(baseUrl: string, setupLink: string): Promise<void> {
  const token = new URL(setupLink).searchParams.get('token') ?? '';
  // The form as a browser gets it: its cookie and the token it carries.
  const page = await fetch(setupLink, { redirect: 'manual' });
  const formCookie = /bi_form=[^;]+/.exec(page.headers.get('set-cookie') ?? '')?.[0];
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(await page.text())?.[1];
  if (page.status !== 200 || !formCookie || !csrf) {
    throw new Error(`the set-up page did not answer with its form: HTTP ${page.status}`);
  }
  const form = new URLSearchParams({
    token,
    username: ADMIN.username,
    password: ADMIN.password,
    confirm: ADMIN.password,
    csrf_token: csrf,
  });
  const response = await fetch(`${baseUrl}/auth/setup`, {
    method: 'POST',
    body: form,
    redirect: 'manual',
    headers: { Origin: baseUrl, Cookie: formCookie },
  });
  const cookie = response.headers.get('set-cookie') ?? '';
  const session = /bi_session=([^;]+)/.exec(cookie);
  if (response.status !== 303 || !session) {
    throw new Error(`set-up failed: HTTP ${response.status} ${await response.text()}`);
  }
  const { hostname } = new URL(baseUrl);
  mkdirSync(join(__dirname, '.auth'), { recursive: true });
  writeFileSync(
    STORAGE_STATE,
    JSON.stringify({
      cookies: [
        { name: 'bi_session', value: session[1], domain: hostname, path: '/', expires: -1, httpOnly: true, secure: false, sameSite: 'Lax' },
      ],
      origins: [],
    }),
  );
}
