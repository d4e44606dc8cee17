import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stackEnv } from '../../../devtools/stackEnv.ts';

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(stackEnv().ETH_RPC_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

test('anvil: reports chain id 31337 and a block number that grows when blocks are mined', async () => {
  assert.equal(await rpc<string>('eth_chainId'), '0x7a69');
  const before = BigInt(await rpc<string>('eth_blockNumber'));
  await rpc('anvil_mine', ['0x3']);
  const after = BigInt(await rpc<string>('eth_blockNumber'));
  assert.ok(after >= before + 3n, `expected at least 3 new blocks, got ${before} -> ${after}`);
});

test('anvil: a value transfer is mined and moves exactly that value', async () => {
  const [from, to] = await rpc<string[]>('eth_accounts');
  assert.ok(from && to);
  const recipient = '0x' + 'ab'.repeat(20);
  const balanceBefore = BigInt(await rpc<string>('eth_getBalance', [recipient, 'latest']));
  const hash = await rpc<string>('eth_sendTransaction', [{ from, to: recipient, value: '0x2a' }]);
  // Automine mines right after the send returns, so the receipt can lag by a moment.
  type Receipt = { status: string; blockNumber: string; transactionHash: string };
  let receipt: Receipt | null = null;
  for (let i = 0; i < 100 && !receipt; i++) {
    receipt = await rpc<Receipt | null>('eth_getTransactionReceipt', [hash]);
    if (!receipt) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(receipt, `transaction ${hash} was not mined within 5s`);
  assert.equal(receipt.status, '0x1');
  assert.equal(receipt.transactionHash, hash);
  const block = await rpc<{ transactions: string[] }>('eth_getBlockByNumber', [receipt.blockNumber, false]);
  assert.ok(block.transactions.includes(hash));
  const balanceAfter = BigInt(await rpc<string>('eth_getBalance', [recipient, 'latest']));
  assert.equal(balanceAfter - balanceBefore, 42n);
});
