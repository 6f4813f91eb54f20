// The browser tests against a real kube-apiserver (../shared/realk8s beside
// the clone): starts one with kube-controller-manager, then `bi serve` on
// it (global-setup.ts's startBi), and hands the tests its kubeconfig and
// kubectl (BI_E2E_KUBECONFIG, BI_E2E_KUBECTL). Without ../shared/realk8s
// the run is skipped loudly, unless BI_REQUIRE_REAL_APISERVER=1 (CI).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBi } from './global-setup';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const realk8s = resolve(process.env.BI_REALK8S ?? join(__dirname, '..', '..', 'shared', 'realk8s'));
  if (!existsSync(join(realk8s, 'up'))) {
    if (process.env.BI_REQUIRE_REAL_APISERVER === '1') {
      throw new Error(`BI_REQUIRE_REAL_APISERVER=1 but there is no real API server at ${realk8s}`);
    }
    process.stderr.write(`\n*** SKIPPING the browser tests on a real API server: no ${realk8s}/up ***\n\n`);
    process.env.BI_E2E_NO_REALK8S = '1';
    return async () => {};
  }
  const dir = mkdtempSync(join(tmpdir(), 'bi-e2e-realk8s-'));
  const kubeconfig = execFileSync(join(realk8s, 'up'), [dir], { encoding: 'utf8' }).trim().split('\n').pop()!;
  process.env.BI_E2E_KUBECONFIG = kubeconfig;
  process.env.BI_E2E_KUBECTL = join(process.env.REALK8S_CACHE ?? join(homedir(), '.cache', 'realk8s'), 'bin', 'kubectl');
  let stopBi: () => Promise<void>;
  try {
    stopBi = await startBi(['--kubeconfig', kubeconfig]);
  } catch (error) {
    execFileSync(join(realk8s, 'down'), [dir]);
    throw error;
  }
  return async () => {
    try {
      await stopBi();
    } finally {
      execFileSync(join(realk8s, 'down'), [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
