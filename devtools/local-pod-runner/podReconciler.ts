// Makes what runs on this node match the pods the API server has for it. Reads
// the pod fresh on every pass (events only say which key to look at), decides
// with podDecision, and acts: bind, start a runtime, finish a deletion, or stop
// processes whose pod is gone.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { PodApi } from './podApi.ts';
import { bindPod } from './podBinder.ts';
import type { PodAction, PodFacts } from './podDecision.ts';
import { decidePodActions } from './podDecision.ts';
import { parsePodKey } from './podFiles.ts';
import type { PodRuntimeDeps } from './podRuntime.ts';
import { PodRuntime } from './podRuntime.ts';

/** The grace period for processes whose pod vanished without a graceful deletion. */
const VANISHED_POD_GRACE_SECONDS = 2;
/** A runner shutdown must finish before the stack's stop gives up on it (30 s). */
const SHUTDOWN_GRACE_CAP_SECONDS = 20;

export function podFacts(pod: V1Pod): PodFacts {
  return {
    uid: pod.metadata?.uid ?? '',
    schedulerName: pod.spec?.schedulerName,
    nodeName: pod.spec?.nodeName,
    phase: pod.status?.phase,
    deleting: Boolean(pod.metadata?.deletionTimestamp),
    graceSeconds: pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30,
  };
}

export class PodReconciler {
  private readonly core: CoreV1Api;
  private readonly api: PodApi;
  private readonly runtimeDeps: PodRuntimeDeps;
  private readonly log: Logger;
  private readonly runtimes = new Map<string, PodRuntime>();
  /** Key → uid of pods whose deletion this runner completed; they may linger for other finalizers. */
  private readonly finalized = new Map<string, string>();
  private shuttingDown = false;

  constructor(core: CoreV1Api, api: PodApi, runtimeDeps: PodRuntimeDeps, log: Logger) {
    this.core = core;
    this.api = api;
    this.runtimeDeps = runtimeDeps;
    this.log = log;
  }

  get nodeName(): string {
    return this.runtimeDeps.nodeName;
  }

  /** Keys of the pods that have a local runtime (for resync: their pods may be gone). */
  runtimeKeys(): string[] {
    return [...this.runtimes.keys()];
  }

  async reconcile(key: string): Promise<void> {
    if (this.shuttingDown) return;
    const { namespace, name } = parsePodKey(key);
    const pod = await this.api.readPod(namespace, name);
    const facts = pod ? podFacts(pod) : undefined;
    const runtime = this.runtimes.get(key);
    if (!pod) this.finalized.delete(key);
    const actions = decidePodActions(
      facts,
      { runtimeUid: runtime?.uid, finalized: facts !== undefined && this.finalized.get(key) === facts.uid },
      this.nodeName,
    );
    for (const action of actions) await this.act(action, key, pod, runtime);
  }

  private async act(
    action: PodAction,
    key: string,
    pod: V1Pod | undefined,
    runtime: PodRuntime | undefined,
  ): Promise<void> {
    const { namespace, name } = parsePodKey(key);
    const log = this.log.child({ namespace, pod: name });
    switch (action.kind) {
      case 'none':
        return;
      case 'stop-local':
        log.info({ why: action.why }, 'stopping processes of a pod that is no longer here');
        this.runtimes.delete(key);
        await runtime?.terminate({
          graceSeconds: VANISHED_POD_GRACE_SECONDS,
          podIsTerminal: true,
          report: false,
        });
        return;
      case 'bind': {
        const target = {
          namespace: pod!.metadata!.namespace!,
          name: pod!.metadata!.name!,
          uid: pod!.metadata!.uid!,
        };
        if (await bindPod(this.core, target, this.nodeName)) log.info({ node: this.nodeName }, 'pod bound');
        return;
      }
      case 'start': {
        if (this.shuttingDown) return;
        const started = new PodRuntime(pod!, this.runtimeDeps);
        this.runtimes.set(key, started);
        log.info({ uid: started.uid }, 'starting pod');
        started.start();
        return;
      }
      case 'finalize': {
        const uid = pod!.metadata!.uid!;
        const current = this.runtimes.get(key) ?? new PodRuntime(pod!, this.runtimeDeps);
        log.info({ graceSeconds: action.graceSeconds }, 'pod is being deleted');
        await current.terminate({ graceSeconds: action.graceSeconds, podIsTerminal: true, report: true });
        this.runtimes.delete(key);
        await this.api.deletePodNow(pod!.metadata!.namespace!, pod!.metadata!.name!, uid);
        this.finalized.set(key, uid);
        log.info('pod deletion completed');
        return;
      }
    }
  }

  /**
   * Runner shutdown: stops every pod's processes gracefully (capped so the stack's
   * stop does not have to kill the runner) and reports what they exited with.
   * Pods stay bound here; a runner that starts again restarts them per restartPolicy.
   */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all(
      [...this.runtimes.values()].map((runtime) =>
        runtime.terminate({
          graceSeconds: Math.min(runtime.graceSeconds, SHUTDOWN_GRACE_CAP_SECONDS),
          podIsTerminal: false,
          report: true,
        }),
      ),
    );
  }
}
