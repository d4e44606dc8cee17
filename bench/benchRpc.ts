// Plain JSON-RPC calls for filling the bench's anvil: no retries, no validation; an error
// answer throws.

export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const [result] = await rpcBatch<T>(url, [{ method, params }]);
  return result as T;
}

export async function rpcBatch<T>(url: string, calls: { method: string; params: unknown[] }[]): Promise<T[]> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map((call, id) => ({ jsonrpc: '2.0', id, ...call }))),
  });
  const answers = (await response.json()) as { id: number; result?: T; error?: { message: string } }[];
  answers.sort((a, b) => a.id - b.id);
  return answers.map((answer) => {
    if (answer.error) throw new Error(`anvil: ${answer.error.message}`);
    return answer.result as T;
  });
}
