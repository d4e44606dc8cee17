// A pod's ServiceAccount token as files, kept fresh: the stand-in for the
// projected volume a kubelet mounts. mount() requests a token bound to the pod and
// writes `token`, `ca.crt` and `namespace`; then the token is requested again
// before it grows old and rewritten in place, until stop().
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { backoffDelayMs, type BackoffPolicy } from '../../contract/backoff.ts';
import { writeFileAtomic } from './atomicFile.ts';
import type { PodApi } from './podApi.ts';
import { podTokenRequest, tokenRefreshDelayMs } from './serviceAccountAccess.ts';

/** A refresh that fails is retried well before the old token expires (it has 20 % of its lifetime left). */
const REFRESH_RETRY_BACKOFF: BackoffPolicy = { baseDelayMs: 1_000, maxDelayMs: 60_000, jitter: true };

export interface TokenMountTarget {
  namespace: string;
  podName: string;
  podUid: string;
  serviceAccountName: string;
  /** The folder the files go to (`<sandbox>/var/run/secrets/kubernetes.io/serviceaccount`). */
  dir: string;
}

export interface TokenMountDeps {
  api: Pick<PodApi, 'requestServiceAccountToken'>;
  /** The API server's CA certificate (PEM), written as `ca.crt`. */
  caPem: string;
  log: Logger;
  now: () => Date;
}

export class ServiceAccountTokenMount {
  private readonly target: TokenMountTarget;
  private readonly deps: TokenMountDeps;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(target: TokenMountTarget, deps: TokenMountDeps) {
    this.target = target;
    this.deps = deps;
  }

  /** Writes the first token, the CA and the namespace; throws when the token cannot be had. */
  async mount(): Promise<void> {
    mkdirSync(this.target.dir, { recursive: true, mode: 0o755 });
    writeFileAtomic(join(this.target.dir, 'ca.crt'), this.deps.caPem);
    writeFileAtomic(join(this.target.dir, 'namespace'), this.target.namespace);
    await this.writeFreshToken();
  }

  /** Stops refreshing. The files stay, as a kubelet keeps a volume until the pod is deleted. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async writeFreshToken(): Promise<void> {
    const requestedAt = this.deps.now();
    const { token, expiresAt } = await this.deps.api.requestServiceAccountToken(
      this.target.namespace,
      this.target.serviceAccountName,
      podTokenRequest({ name: this.target.podName, uid: this.target.podUid }),
    );
    // A stop() while the request was in flight wins: the token is not written, nothing is scheduled.
    if (this.stopped) return;
    writeFileAtomic(join(this.target.dir, 'token'), token, 0o600);
    this.schedule(tokenRefreshDelayMs({ requestedAt, expiresAt }, this.deps.now()), 0);
  }

  private schedule(delayMs: number, failures: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh(failures), delayMs);
    // A pending refresh never keeps the runner alive on its own.
    this.timer.unref();
  }

  private async refresh(failures: number): Promise<void> {
    try {
      await this.writeFreshToken();
      this.deps.log.debug('service account token refreshed');
    } catch (error) {
      const retry = failures + 1;
      this.deps.log.warn(
        { err: error, serviceAccount: this.target.serviceAccountName, failures: retry },
        'could not refresh the service account token; retrying',
      );
      this.schedule(backoffDelayMs(REFRESH_RETRY_BACKOFF, retry), retry);
    }
  }
}
