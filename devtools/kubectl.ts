// kubectl against the local stack's API server (the one `make install` built), and the
// install of the modelrunner.io CRDs: used by make deploy and by the tests. Safe to call from
// every test file at once: server-side apply of the same manifests under one field manager is
// idempotent, so parallel processes converge on the same CRDs.
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { repoRoot, stackEnv } from './stackEnv.ts';

const KUBE_VERSION = 'v1.35.4';
/** The kubectl matching the local API server, as installed by `make install`. */
export const kubectlBinDir = join(homedir(), '.cache', 'model-runner', 'kube', KUBE_VERSION, 'bin');
export const generatedCrdsDir = join(repoRoot, 'crds', 'generated');
/** One field manager for every install of the CRDs (make deploy and the tests), so re-applies never conflict. */
const CRD_FIELD_MANAGER = 'model-runner-crd-install';

export interface KubectlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin, e.g. a manifest for `-f -`. */
  input?: string;
  namespace?: string;
}

/** Runs kubectl against the local stack; a non-zero exit is a result, not an error. */
export function kubectl(args: readonly string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  const env = {
    ...process.env,
    KUBECONFIG: stackEnv().KUBECONFIG,
    PATH: [kubectlBinDir, process.env.PATH ?? ''].join(delimiter),
  };
  const fullArgs = options.namespace ? ['--namespace', options.namespace, ...args] : [...args];
  return new Promise((resolve, reject) => {
    const child = spawn(join(kubectlBinDir, 'kubectl'), fullArgs, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs kubectl and returns stdout; throws with kubectl's stderr on failure. */
export async function kubectlOk(args: readonly string[], options: KubectlOptions = {}): Promise<string> {
  const result = await kubectl(args, options);
  if (result.exitCode !== 0) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.exitCode}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}

let installation: Promise<void> | undefined;

/**
 * Applies crds/generated/*.yaml with server-side apply and waits until every CRD is
 * Established. Once per process; cheap and harmless when they are already installed.
 */
export function installCrds(): Promise<void> {
  installation ??= (async () => {
    await kubectlOk([
      'apply',
      '--server-side',
      '--force-conflicts',
      `--field-manager=${CRD_FIELD_MANAGER}`,
      '--filename',
      generatedCrdsDir,
    ]);
    await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', '--filename', generatedCrdsDir]);
  })();
  return installation;
}
