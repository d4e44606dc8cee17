// One HTTP POST whose answer goes into a local file, never into a JS string: the raw path of
// ingest, where DuckDB reads the JSON-RPC answers itself. node:http costs markedly less CPU
// per byte than fetch for a body that is only written out (docs/benchmarks.md), and a gzip
// answer is inflated before it is written.
import { open, writeFile } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { gunzipSync } from 'node:zlib';

export type BodyToFileOutcome =
  /** `bytes`: the size of the file written. */
  { ok: true; bytes: number } | { ok: false; reason: string; status?: number };

/** Keep-alive connections to one endpoint, as many as requests may be in flight. */
export class HttpBodyPoster {
  readonly #url: URL;
  readonly #agent: HttpAgent;

  constructor(url: string, maxSockets: number) {
    this.#url = new URL(url);
    const options = { keepAlive: true, maxSockets };
    this.#agent = this.#url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
  }

  /**
   * POSTs `body` (JSON) and writes a 2xx answer's body to `file`. Anything else (another
   * status, a dropped connection, a timeout) is `{ ok: false }` with the reason; an abort of
   * `signal` rejects with its reason.
   */
  async post(
    body: string,
    file: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<BodyToFileOutcome> {
    signal?.throwIfAborted();
    const url = this.#url;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const timeout = AbortSignal.timeout(timeoutMs);
    const aborted = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const response = await new Promise<IncomingMessage | Error>((resolve) => {
      const request = send(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          auth: url.username
            ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
            : undefined,
          method: 'POST',
          agent: this.#agent,
          signal: aborted,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'accept-encoding': 'gzip',
            'content-length': Buffer.byteLength(body),
          },
        },
        resolve,
      );
      request.once('error', resolve);
      request.end(body);
    });
    if (signal?.aborted) throw signal.reason;
    if (response instanceof Error) {
      return { ok: false, reason: timeout.aborted ? `timed out after ${timeoutMs} ms` : response.message };
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      response.resume();
      return { ok: false, reason: `HTTP ${status}`, status };
    }
    // Gathered, then written in a few writev calls: cheaper than a write per socket chunk. A
    // request is one sub-range's answers of one kind, so this is bounded by the sub-range size.
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of response) chunks.push(chunk as Buffer);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const reason = timeout.aborted ? `timed out after ${timeoutMs} ms` : (error as Error).message;
      return { ok: false, reason };
    }
    if (!response.complete) return { ok: false, reason: 'the answer was cut off' };
    if (response.headers['content-encoding'] === 'gzip') {
      let answer: Buffer;
      try {
        answer = gunzipSync(Buffer.concat(chunks));
      } catch (error) {
        return { ok: false, reason: `gzip: ${(error as Error).message}` };
      }
      await writeFile(file, answer);
      return { ok: true, bytes: answer.length };
    }
    return { ok: true, bytes: await writeChunks(file, chunks) };
  }
}

/**
 * Writes `chunks` to `file` as they came off the socket: no joined copy of the answer, and
 * few system calls (up to IOV_MAX buffers each). A short write goes on from where it stopped.
 */
export async function writeChunks(file: string, chunks: readonly Buffer[]): Promise<number> {
  const handle = await open(file, 'w');
  try {
    let bytes = 0;
    for (let start = 0; start < chunks.length; start += MAX_CHUNKS_PER_WRITE) {
      const group = chunks.slice(start, start + MAX_CHUNKS_PER_WRITE);
      const size = group.reduce((sum, chunk) => sum + chunk.length, 0);
      let { bytesWritten } = await handle.writev(group);
      if (bytesWritten < size) {
        const rest = Buffer.concat(group).subarray(bytesWritten);
        bytesWritten += (await handle.write(rest, 0, rest.length)).bytesWritten;
      }
      if (bytesWritten !== size) throw new Error(`wrote ${bytesWritten} of ${size} bytes to ${file}`);
      bytes += size;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/** IOV_MAX on Linux: buffers per writev call. */
const MAX_CHUNKS_PER_WRITE = 1024;
