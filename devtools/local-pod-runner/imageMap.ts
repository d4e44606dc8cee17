// There is no container runtime here, so an image cannot be pulled or run. The
// image map says which images have a local build and how to start it: the
// image's entrypoint and default args (Docker ENTRYPOINT and CMD), plus image
// environment and working directory. Images without an entry can still run when
// the pod gives a `command`: it runs on the host as is (`sh -c 'echo hi'`).
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export interface LocalImage {
  /** ENTRYPOINT: the program and its leading arguments. */
  entrypoint: string[];
  /** CMD: default args, replaced by the container's `args`. */
  args: string[];
  /** ENV: variables the container's own env may override. */
  env: Record<string, string>;
  /** WORKDIR; the pod's sandbox when absent. */
  workingDir?: string;
}

/** Keys are image repositories without registry or tag: `model-runner/worker`. */
export type ImageMap = ReadonlyMap<string, LocalImage>;

const REPOSITORY_KEY = /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

/** The worker image's Node flags (worker-image/Dockerfile's ENTRYPOINT says why). */
export const WORKER_NODE_FLAGS = ['--initial-heap-size=64'];

/** The built-in map: the project's images run their program from this checkout with its Node. */
export function defaultImageMap(repoRoot: string): ImageMap {
  const nodeProgram = (script: string, nodeFlags: string[] = []): LocalImage => ({
    entrypoint: [join(repoRoot, 'node_modules/.bin/node'), ...nodeFlags, join(repoRoot, script)],
    args: [],
    env: {},
  });
  return new Map([
    ['model-runner/worker', nodeProgram('worker-image/main.ts', WORKER_NODE_FLAGS)],
    ['model-runner/operator', nodeProgram('operator/main.ts')],
  ]);
}

/**
 * Parses an image map file: `{ "<repository>": { "entrypoint": [...], "args": [...], "env": {...},
 * "workingDir": "..." } }`. `{repoRoot}` in any string stands for the checkout's root.
 */
export function parseImageMap(text: string, repoRoot: string): ImageMap {
  const parsed: unknown = JSON.parse(text);
  if (!isRecord(parsed)) throw new Error('image map: expected a JSON object keyed by image repository');
  const map = new Map<string, LocalImage>();
  const expand = (value: string) => value.replaceAll('{repoRoot}', repoRoot);
  for (const [key, entry] of Object.entries(parsed)) {
    if (!REPOSITORY_KEY.test(key))
      throw new Error(`image map: ${JSON.stringify(key)} is not an image repository`);
    if (!isRecord(entry)) throw new Error(`image map: ${key}: expected an object`);
    const entrypoint = stringList(entry.entrypoint, `${key}.entrypoint`);
    if (entrypoint.length === 0) throw new Error(`image map: ${key}.entrypoint must not be empty`);
    const args = entry.args === undefined ? [] : stringList(entry.args, `${key}.args`);
    const env = entry.env === undefined ? {} : stringRecord(entry.env, `${key}.env`);
    if (entry.workingDir !== undefined && typeof entry.workingDir !== 'string') {
      throw new Error(`image map: ${key}.workingDir must be a string`);
    }
    map.set(key, {
      entrypoint: entrypoint.map(expand),
      args: args.map(expand),
      env: Object.fromEntries(Object.entries(env).map(([name, value]) => [name, expand(value)])),
      ...(entry.workingDir !== undefined ? { workingDir: expand(entry.workingDir) } : {}),
    });
  }
  return map;
}

/** The built-in map, extended (entry by entry) by the JSON file when one is given. */
export function loadImageMap(repoRoot: string, file: string | undefined): ImageMap {
  const map = new Map(defaultImageMap(repoRoot));
  if (file)
    for (const [key, image] of parseImageMap(readFileSync(file, 'utf8'), repoRoot)) map.set(key, image);
  return map;
}

/** `ghcr.io/x/model-runner/worker:1.2@sha256:…` → `ghcr.io/x/model-runner/worker`. */
export function imageRepository(image: string): string {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon < 0 ? withoutDigest : withoutDigest.slice(0, colon);
}

/** The entry for an image: its repository equals a key or ends with `/<key>` (any registry or org prefix). */
export function findLocalImage(map: ImageMap, image: string): LocalImage | undefined {
  const repository = imageRepository(image);
  for (const [key, local] of map) {
    if (repository === key || repository.endsWith(`/${key}`)) return local;
  }
  return undefined;
}

export type ContainerLaunch =
  | {
      ok: true;
      argv: string[];
      imageEnv: Record<string, string>;
      workingDir?: string;
      /** Absolute paths of the image's entrypoint: a missing one means the local build is not there. */
      requiredFiles: string[];
    }
  | { ok: false; reason: 'ImageNotRunnableLocally'; message: string };

/**
 * The argv a container runs, with Kubernetes' rules: `command` replaces the image's
 * entrypoint (and drops its default args), `args` replaces the default args.
 */
export function containerLaunch(
  map: ImageMap,
  container: { image?: string; command?: string[]; args?: string[] },
): ContainerLaunch {
  const image = container.image ?? '';
  const command = container.command ?? [];
  const args = container.args ?? [];
  const local = findLocalImage(map, image);
  if (command.length > 0) {
    return {
      ok: true,
      argv: [...command, ...args],
      imageEnv: local?.env ?? {},
      ...(local?.workingDir ? { workingDir: local.workingDir } : {}),
      requiredFiles: [],
    };
  }
  if (!local) {
    return {
      ok: false,
      reason: 'ImageNotRunnableLocally',
      message:
        `image ${JSON.stringify(image)} has no local build in the image map and the container sets no command; ` +
        `set a command to run on the host, or map the image (LOCAL_POD_RUNNER_IMAGE_MAP)`,
    };
  }
  return {
    ok: true,
    argv: [...local.entrypoint, ...(args.length > 0 ? args : local.args)],
    imageEnv: local.env,
    ...(local.workingDir ? { workingDir: local.workingDir } : {}),
    requiredFiles: local.entrypoint.filter((part) => isAbsolute(part)),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new Error(`image map: ${what} must be a list of strings`);
  }
  return value;
}

function stringRecord(value: unknown, what: string): Record<string, string> {
  if (!isRecord(value) || !Object.values(value).every((item) => typeof item === 'string')) {
    throw new Error(`image map: ${what} must map names to strings`);
  }
  return value as Record<string, string>;
}
