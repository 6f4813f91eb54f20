// Starts `bi serve` on 127.0.0.1:0 with a fresh data directory, reads the
// address it bound from its log, and hands it to the tests as BI_BASE_URL.
// Teardown stops it with SIGTERM and fails if it does not exit cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

function binaryPath(): string {
  if (process.env.BI_E2E_BINARY) return resolve(process.env.BI_E2E_BINARY);
  const targetDir = process.env.CARGO_TARGET_DIR ?? resolve(__dirname, '..', 'target');
  return join(targetDir, 'debug', 'bi');
}

function waitForListening(child: ChildProcess, log: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`bi did not start within ${START_TIMEOUT_MS} ms:\n${log.join('')}`)),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      log.push(text);
      if (process.env.BI_E2E_VERBOSE) process.stderr.write(text);
      const match = /bi is listening on (http:\/\/[0-9.]+:\d+)/.exec(log.join(""));
      if (match) {
        clearTimeout(timer);
        resolvePromise(match[1]);
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
  const binary = binaryPath();
  if (!existsSync(binary)) {
    throw new Error(`no bi binary at ${binary}: build it with \`make build-debug\` or set BI_E2E_BINARY`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'bi-e2e-'));
  const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir];
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
  const baseUrl = await waitForListening(child, log);
  process.env.BI_BASE_URL = baseUrl;
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
