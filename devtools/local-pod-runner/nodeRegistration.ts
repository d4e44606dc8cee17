// Registers this runner as a Node and keeps it Ready. kube-controller-manager's
// node lifecycle controller watches the node's Lease in kube-node-lease (and the
// Ready condition's heartbeat): when they go stale it marks the node NotReady,
// taints it and, after the toleration period, evicts its pods. So the Lease is
// renewed every 10 s, as the kubelet does, and the status is refreshed every
// minute. Both are written by server-side apply under the runner's own field
// manager, which also creates the objects when they are missing.
import type { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { arch, release } from 'node:os';
import type { Logger } from 'pino';
import { microTime, serverSideApply, wholeSecondTime } from '../../adapters/kube/index.ts';

export const FIELD_MANAGER = 'local-pod-runner';
const LEASE_NAMESPACE = 'kube-node-lease';
const LEASE_DURATION_SECONDS = 40;

/**
 * What the node advertises. Nothing is reserved or enforced here (there are no
 * cgroups), so the numbers only have to be large enough for any Deployment or Job
 * the project runs locally; a ResourceQuota or a scheduler would see them.
 */
export const NODE_CAPACITY = { cpu: '32', memory: '64Gi', pods: '250', 'ephemeral-storage': '100Gi' };

export interface NodeRegistrationOptions {
  nodeName: string;
  ip: string;
  version: string;
  leaseRenewIntervalMs: number;
  statusRefreshIntervalMs: number;
}

/** The Node object's desired metadata and spec, as applied. */
export function nodeManifest(nodeName: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        'kubernetes.io/hostname': nodeName,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': arch() === 'x64' ? 'amd64' : arch(),
        'node.kubernetes.io/instance-type': 'local-pod-runner',
      },
    },
  };
}

/** The Node's status: Ready with a fresh heartbeat, no pressure, loopback addresses. */
export function nodeStatusManifest(options: {
  nodeName: string;
  ip: string;
  version: string;
  readySince: string;
  now: string;
}): object {
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: options.now,
    lastTransitionTime: options.readySince,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: options.nodeName },
    status: {
      capacity: NODE_CAPACITY,
      allocatable: NODE_CAPACITY,
      conditions: [
        condition('Ready', 'True', 'KubeletReady', 'local pod runner is posting ready status'),
        condition(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'no memory pressure is measured here',
        ),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'no disk pressure is measured here'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'no PID pressure is measured here'),
      ],
      addresses: [
        { type: 'InternalIP', address: options.ip },
        { type: 'Hostname', address: options.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: release(),
        osImage: 'local processes (no container runtime)',
        containerRuntimeVersion: `local-pod-runner://${options.version}`,
        kubeletVersion: `v${options.version}-local-pod-runner`,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: arch() === 'x64' ? 'amd64' : arch(),
      },
    },
  };
}

export class NodeRegistration {
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private readonly options: NodeRegistrationOptions;
  private readonly log: Logger;
  private readonly readySince = wholeSecondTime(new Date());
  private nodeUid: string | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  /** When the Lease was last renewed: health reports stale past its duration. */
  lastRenewal: Date | undefined;

  constructor(
    core: CoreV1Api,
    coordination: CoordinationV1Api,
    options: NodeRegistrationOptions,
    log: Logger,
  ) {
    this.core = core;
    this.coordination = coordination;
    this.options = options;
    this.log = log;
  }

  /** Registers the node and renews its Lease once; throws when the API server refuses. */
  async start(): Promise<void> {
    await this.register();
    await this.renewLease();
    this.leaseTimer = setInterval(
      () => void this.renewLease().catch((error) => this.warn(error, 'lease')),
      this.options.leaseRenewIntervalMs,
    );
    this.statusTimer = setInterval(
      () => void this.register().catch((error) => this.warn(error, 'status')),
      this.options.statusRefreshIntervalMs,
    );
  }

  stop(): void {
    clearInterval(this.leaseTimer);
    clearInterval(this.statusTimer);
  }

  isFresh(now: Date): boolean {
    return (
      this.lastRenewal !== undefined &&
      now.getTime() - this.lastRenewal.getTime() < LEASE_DURATION_SECONDS * 1000
    );
  }

  private warn(error: unknown, what: string): void {
    this.log.warn(
      { err: error, node: this.options.nodeName },
      `node ${what} update failed; the next heartbeat retries`,
    );
  }

  /** Applies the Node and its status; recreates the Node if someone deleted it. */
  private async register(): Promise<void> {
    const node = await this.core.patchNode(
      {
        name: this.options.nodeName,
        body: nodeManifest(this.options.nodeName),
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      serverSideApply,
    );
    if (this.nodeUid !== node.metadata?.uid) {
      this.nodeUid = node.metadata?.uid;
      this.log.info({ node: this.options.nodeName, uid: this.nodeUid }, 'node registered');
    }
    const status = nodeStatusManifest({
      ...this.options,
      readySince: this.readySince,
      now: wholeSecondTime(new Date()),
    });
    await this.core.patchNodeStatus(
      { name: this.options.nodeName, body: status, fieldManager: FIELD_MANAGER, force: true },
      serverSideApply,
    );
  }

  private async renewLease(): Promise<void> {
    const now = new Date();
    await this.coordination.patchNamespacedLease(
      {
        namespace: LEASE_NAMESPACE,
        name: this.options.nodeName,
        fieldManager: FIELD_MANAGER,
        force: true,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: this.options.nodeName,
            namespace: LEASE_NAMESPACE,
            // Owned by the node, as the kubelet does it: deleting the node deletes its lease.
            ownerReferences: this.nodeUid
              ? [{ apiVersion: 'v1', kind: 'Node', name: this.options.nodeName, uid: this.nodeUid }]
              : [],
          },
          spec: {
            holderIdentity: this.options.nodeName,
            leaseDurationSeconds: LEASE_DURATION_SECONDS,
            renewTime: microTime(now),
          },
        },
      },
      serverSideApply,
    );
    this.lastRenewal = now;
  }
}
