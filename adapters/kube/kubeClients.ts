// Every typed client the project uses, made from one KubeConfig, so the operator, the demo and
// the tests authenticate the same way and share one place to change it.
import {
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubernetesObjectApi,
  NetworkingV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';

export interface KubeClients {
  config: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  coordination: CoordinationV1Api;
  /** events.k8s.io/v1: the Events API with series (core/v1 Events are the legacy one). */
  events: EventsV1Api;
  networking: NetworkingV1Api;
  customObjects: CustomObjectsApi;
  /** Generic by apiVersion/kind; its patch defaults to strategic merge, which custom resources refuse. */
  objects: KubernetesObjectApi;
}

export function createKubeClients(config: KubeConfig): KubeClients {
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
    batch: config.makeApiClient(BatchV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    events: config.makeApiClient(EventsV1Api),
    networking: config.makeApiClient(NetworkingV1Api),
    customObjects: config.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(config),
  };
}
