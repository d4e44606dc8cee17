// A data lake in a local folder: the embedded default (CLI runs, tests, one-node setups).
// Atomic writes: the bytes go to a hidden temp file in the target folder, are flushed to
// disk, then renamed over the target; rename within a filesystem is atomic, so a reader
// sees the old file or the new one, and a crash leaves at most a hidden temp file, which
// listings skip.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DataLake, type LakeBody, assertLakePath, normalizeLakePrefix } from './dataLake.ts';

export class LocalLake implements DataLake {
  readonly url: string;
  readonly root: string;

  constructor(root: string) {
    if (!isAbsolute(root) || root.includes('\0'))
      throw new Error(`a local lake needs an absolute folder, not ${root}`);
    this.root = resolve(root);
    this.url = pathToFileURL(this.root).toString();
  }

  localFileOf(path: string): string {
    assertLakePath(path);
    return join(this.root, ...path.split('/'));
  }

  async writeFile(path: string, body: LakeBody): Promise<void> {
    await this.replaceAtomically(path, async (tempFile) => {
      const handle = await open(tempFile, 'wx');
      try {
        if (body instanceof Uint8Array) {
          await handle.writeFile(body);
        } else {
          for await (const chunk of body) await handle.write(chunk);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  async writeFileFrom(path: string, localFile: string): Promise<void> {
    await this.replaceAtomically(path, async (tempFile) => {
      await copyFile(localFile, tempFile);
      const handle = await open(tempFile, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  async readFile(path: string): Promise<Uint8Array> {
    return readFile(this.localFileOf(path));
  }

  async copyToLocalFile(path: string, localFile: string): Promise<void> {
    await copyFile(this.localFileOf(path), localFile);
  }

  async exists(path: string): Promise<boolean> {
    try {
      return (await stat(this.localFileOf(path))).isFile();
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const folder = normalizeLakePrefix(prefix);
    const start = folder === '' ? this.root : join(this.root, ...folder.split('/'));
    let entries;
    try {
      entries = await readdir(start, { recursive: true, withFileTypes: true });
    } catch (error) {
      if (isMissing(error) || isNotDirectory(error)) return [];
      throw error;
    }
    const paths: string[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const lakePath = relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/');
      // Hidden names are temp files of writes in progress (or not ours).
      if (lakePath.split('/').some((segment) => segment.startsWith('.'))) continue;
      paths.push(lakePath);
    }
    return paths.sort();
  }

  async delete(prefix = ''): Promise<number> {
    const folder = normalizeLakePrefix(prefix);
    const files = await this.list(folder);
    if (folder === '') {
      for (const entry of await readdirOrEmpty(this.root))
        await rm(join(this.root, entry), { recursive: true });
    } else {
      await rm(join(this.root, ...folder.split('/')), { recursive: true, force: true });
    }
    return files.length;
  }

  private async replaceAtomically(path: string, fill: (tempFile: string) => Promise<void>): Promise<void> {
    const target = this.localFileOf(path);
    await mkdir(dirname(target), { recursive: true });
    const tempFile = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await fill(tempFile);
      await rename(tempFile, target);
    } catch (error) {
      await unlink(tempFile).catch(() => undefined);
      throw error;
    }
  }
}

async function readdirOrEmpty(folder: string): Promise<string[]> {
  try {
    return await readdir(folder);
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function isNotDirectory(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOTDIR';
}
