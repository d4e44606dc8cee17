// The three kinds of the modelrunner.io API: what the CRD manifests say beyond the
// schemas (names, printer columns, subresources). The schemas themselves live in
// crds/<kind>.schema.json; this file only points at them.

export const API_GROUP = 'modelrunner.io';
export const API_VERSION = 'v1alpha1';
/** `kubectl get modelrunner` lists every kind of the API. */
export const API_CATEGORY = 'modelrunner';

export type PrinterColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

export interface PrinterColumn {
  name: string;
  type: PrinterColumnType;
  jsonPath: string;
  description: string;
  /** 0: shown by `kubectl get`; 1: only with `-o wide`. */
  priority?: 0 | 1;
}

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath: string;
}

export interface CustomResourceKind {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  /** File name under crds/ of the kind's JSON Schema. */
  schemaFile: string;
  printerColumns: PrinterColumn[];
  /** Fields usable with `kubectl get --field-selector` (and by controllers' list calls). */
  selectableFields: string[];
  scale?: ScaleSubresource;
}

const AGE_COLUMN: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since the object was created.',
};

export const MODEL_RUN: CustomResourceKind = {
  kind: 'ModelRun',
  plural: 'modelruns',
  singular: 'modelrun',
  shortNames: ['mr'],
  schemaFile: 'modelrun.schema.json',
  printerColumns: [
    { name: 'Model', type: 'string', jsonPath: '.spec.model', description: 'Model being run.' },
    {
      name: 'Chain',
      type: 'string',
      jsonPath: '.spec.chain',
      description: 'Chain whose blocks are modeled.',
    },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Where the run is.' },
    {
      name: 'Progress',
      type: 'string',
      jsonPath: '.status.progress',
      description: 'Done over total batches.',
    },
    { name: 'Blocks', type: 'integer', jsonPath: '.status.blocksModeled', description: 'Blocks modeled.' },
    AGE_COLUMN,
    {
      name: 'Executor',
      type: 'string',
      jsonPath: '.spec.executor',
      description: 'queue or job.',
      priority: 1,
    },
    {
      name: 'Queue',
      type: 'string',
      jsonPath: '.status.queue',
      description: 'Queue of the batches.',
      priority: 1,
    },
    {
      name: 'Start',
      type: 'integer',
      jsonPath: '.status.blocks.start',
      description: 'First block.',
      priority: 1,
    },
    { name: 'End', type: 'integer', jsonPath: '.status.blocks.end', description: 'Last block.', priority: 1 },
  ],
  selectableFields: ['.spec.model', '.spec.chain', '.status.phase'],
};

export const MODEL_SCHEDULE: CustomResourceKind = {
  kind: 'ModelSchedule',
  plural: 'modelschedules',
  singular: 'modelschedule',
  shortNames: ['ms'],
  schemaFile: 'modelschedule.schema.json',
  printerColumns: [
    { name: 'Model', type: 'string', jsonPath: '.spec.model', description: 'Model kept current.' },
    { name: 'Chain', type: 'string', jsonPath: '.spec.chain', description: 'Chain followed.' },
    { name: 'Schedule', type: 'string', jsonPath: '.spec.trigger.schedule', description: 'Cron trigger.' },
    {
      name: 'Realtime',
      type: 'boolean',
      jsonPath: '.spec.trigger.realtime',
      description: 'Whether new ingestion markers trigger runs.',
    },
    { name: 'Suspend', type: 'boolean', jsonPath: '.spec.suspend', description: 'Whether runs are paused.' },
    {
      name: 'Last Schedule',
      type: 'date',
      jsonPath: '.status.lastScheduleTime',
      description: 'When a run was last created.',
    },
    { name: 'Lag', type: 'integer', jsonPath: '.status.lag.blocks', description: 'Blocks behind the head.' },
    {
      name: 'Pending',
      type: 'integer',
      jsonPath: '.status.pendingBatches',
      description: 'Batches ingested but not modeled.',
    },
    AGE_COLUMN,
    {
      name: 'Lag Seconds',
      type: 'integer',
      jsonPath: '.status.lag.seconds',
      description: 'Seconds behind the head.',
      priority: 1,
    },
    {
      name: 'Processed',
      type: 'integer',
      jsonPath: '.status.processedThroughBlock',
      description: 'Every batch up to this block is modeled.',
      priority: 1,
    },
    {
      name: 'Coverage',
      type: 'number',
      jsonPath: '.status.coverage.percent',
      description: 'Percent of the window modeled.',
      priority: 1,
    },
  ],
  selectableFields: ['.spec.model', '.spec.chain'],
};

export const WORKER_POOL: CustomResourceKind = {
  kind: 'WorkerPool',
  plural: 'workerpools',
  singular: 'workerpool',
  shortNames: ['wp'],
  schemaFile: 'workerpool.schema.json',
  printerColumns: [
    { name: 'Queues', type: 'string', jsonPath: '.status.queues', description: 'Queues consumed.' },
    {
      name: 'Desired',
      type: 'integer',
      jsonPath: '.status.desiredReplicas',
      description: 'Workers wanted now.',
    },
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Workers ready.' },
    {
      name: 'Starting',
      type: 'integer',
      jsonPath: '.status.startingReplicas',
      description: 'Workers Pending or starting (counted as capacity).',
    },
    {
      name: 'Depth',
      type: 'integer',
      jsonPath: '.status.queueDepth.total',
      description: 'Ready plus unacknowledged messages.',
    },
    AGE_COLUMN,
    {
      name: 'Replicas',
      type: 'integer',
      jsonPath: '.spec.replicas',
      description: 'spec.replicas.',
      priority: 1,
    },
    {
      name: 'Min',
      type: 'integer',
      jsonPath: '.spec.minReplicas',
      description: 'Fewest workers.',
      priority: 1,
    },
    {
      name: 'Max',
      type: 'integer',
      jsonPath: '.spec.maxReplicas',
      description: 'Most workers.',
      priority: 1,
    },
    {
      name: 'Consumers',
      type: 'integer',
      jsonPath: '.status.consumers',
      description: 'Consumers on the queues.',
      priority: 1,
    },
    {
      name: 'Unacked',
      type: 'integer',
      jsonPath: '.status.queueDepth.unacked',
      description: 'Messages being worked (delivered, not yet acknowledged).',
      priority: 1,
    },
    {
      name: 'Last Scale',
      type: 'date',
      jsonPath: '.status.lastScaleTime',
      description: 'When the worker count last changed.',
      priority: 1,
    },
    {
      name: 'Reason',
      type: 'string',
      jsonPath: '.status.lastScaleReason',
      description: 'Why the worker count last changed.',
      priority: 1,
    },
  ],
  selectableFields: [],
  scale: {
    specReplicasPath: '.spec.replicas',
    statusReplicasPath: '.status.replicas',
    labelSelectorPath: '.status.selector',
  },
};

export const CUSTOM_RESOURCE_KINDS: readonly CustomResourceKind[] = [MODEL_RUN, MODEL_SCHEDULE, WORKER_POOL];

/** `<plural>.<group>`, the CustomResourceDefinition's name. */
export function crdName(kind: CustomResourceKind): string {
  return `${kind.plural}.${API_GROUP}`;
}

/** The field manager a controller of this kind writes with, e.g. model-runner-modelrun. */
export function fieldManagerFor(kind: CustomResourceKind): string {
  return `model-runner-${kind.singular}`;
}
