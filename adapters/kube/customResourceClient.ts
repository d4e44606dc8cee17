// A typed client for one custom resource kind, in the words a controller uses: find, list,
// create, delete, write status, add and drop a finalizer. Custom objects come back as the
// server's JSON (dates are strings), so nothing here needs normalising.
import type { CustomObjectsApi, V1ObjectMeta } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, type CustomResourceKind } from '../../crds/kinds.ts';
import { findOrUndefined, isNotFound } from './apiErrors.ts';
import type { ResourceRef } from './listWatch.ts';
import { mergePatch, serverSideApply } from './requestOptions.ts';

/** A custom resource type: group, version, plural (for URLs) and kind (for bodies). */
export interface CustomResourceType extends ResourceRef {
  kind: string;
}

export interface CustomObject {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  status?: unknown;
}

export type StatusOf<T extends CustomObject> = NonNullable<T['status']>;

export interface CustomObjectList<T> {
  items: T[];
  resourceVersion: string;
}

export interface ListSelector {
  /** Undefined lists every namespace. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  /** Delete only this incarnation: a recreated object with the same name answers 409. */
  uid?: string | undefined;
}

/** One of this project's kinds (crds/kinds.ts) as a CustomResourceType of modelrunner.io/v1alpha1. */
export function customResourceType(kind: CustomResourceKind): CustomResourceType {
  return { group: API_GROUP, version: API_VERSION, plural: kind.plural, kind: kind.kind };
}

export class CustomResourceClient<T extends CustomObject> {
  readonly type: CustomResourceType;
  readonly #api: CustomObjectsApi;

  constructor(api: CustomObjectsApi, type: CustomResourceType) {
    this.#api = api;
    this.type = type;
  }

  get apiVersion(): string {
    return `${this.type.group}/${this.type.version}`;
  }

  /** The object, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<T | undefined> {
    return findOrUndefined(
      () => this.#api.getNamespacedCustomObject({ ...this.#path(namespace), name }) as Promise<T>,
    );
  }

  async list(selector: ListSelector = {}): Promise<CustomObjectList<T>> {
    const filters = { labelSelector: selector.labelSelector, fieldSelector: selector.fieldSelector };
    const { group, version, plural } = this.type;
    const list = (await (selector.namespace
      ? this.#api.listNamespacedCustomObject({ ...this.#path(selector.namespace), ...filters })
      : this.#api.listClusterCustomObject({ group, version, plural, ...filters }))) as {
      items?: T[];
      metadata?: { resourceVersion?: string };
    };
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
  }

  create(namespace: string, object: T): Promise<T> {
    const body = { ...object, apiVersion: this.apiVersion, kind: this.type.kind };
    return this.#api.createNamespacedCustomObject({ ...this.#path(namespace), body }) as Promise<T>;
  }

  /** Starts the deletion; false when the object was already gone. */
  async delete(namespace: string, name: string, options: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.#api.deleteNamespacedCustomObject({
        ...this.#path(namespace),
        name,
        body: {
          propagationPolicy: options.propagationPolicy,
          preconditions: options.uid ? { uid: options.uid } : undefined,
        },
      });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * Server-side apply of `status` to the /status subresource, forcing ownership of the fields
   * it names for `fieldManager`. Only apiVersion, kind, name, namespace and status are sent,
   * so the call claims no spec or metadata field. 404 when the object is gone.
   */
  applyStatus(object: T, status: StatusOf<T>, fieldManager: string): Promise<T> {
    const { name, namespace } = identify(object);
    return this.#api.patchNamespacedCustomObjectStatus(
      {
        ...this.#path(namespace),
        name,
        body: { apiVersion: this.apiVersion, kind: this.type.kind, metadata: { name, namespace }, status },
        fieldManager,
        force: true,
      },
      serverSideApply,
    ) as Promise<T>;
  }

  /**
   * Adds `finalizer` unless present. The patch carries the resourceVersion the caller read, so
   * a concurrent writer makes it fail with 409 (isConflict) rather than drop their finalizer:
   * the caller re-reads and retries (a reconcile does by throwing).
   */
  async addFinalizer(object: T, finalizer: string): Promise<T> {
    const finalizers = object.metadata?.finalizers ?? [];
    if (finalizers.includes(finalizer)) return object;
    return this.#patchFinalizers(object, [...finalizers, finalizer]);
  }

  /** Drops `finalizer` if present (same 409 contract); undefined when the object is gone. */
  async removeFinalizer(object: T, finalizer: string): Promise<T | undefined> {
    const finalizers = object.metadata?.finalizers ?? [];
    if (!finalizers.includes(finalizer)) return object;
    return findOrUndefined(() =>
      this.#patchFinalizers(
        object,
        finalizers.filter((each) => each !== finalizer),
      ),
    );
  }

  #patchFinalizers(object: T, finalizers: string[]): Promise<T> {
    const { name, namespace, resourceVersion } = identify(object);
    if (!resourceVersion) throw new Error(`${this.type.kind} ${namespace}/${name} has no resourceVersion`);
    return this.#api.patchNamespacedCustomObject(
      { ...this.#path(namespace), name, body: { metadata: { resourceVersion, finalizers } } },
      mergePatch,
    ) as Promise<T>;
  }

  #path(namespace: string) {
    const { group, version, plural } = this.type;
    return { group, version, plural, namespace };
  }
}

function identify(object: CustomObject): { name: string; namespace: string; resourceVersion?: string } {
  const name = object.metadata?.name;
  const namespace = object.metadata?.namespace;
  if (!name || !namespace) throw new Error('a namespaced object needs metadata.name and metadata.namespace');
  return { name, namespace, resourceVersion: object.metadata?.resourceVersion };
}
