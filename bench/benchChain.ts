// The benchmark's own anvil, filled with blocks that look like work: several transactions per
// block, tens of ERC-20 Transfer logs per block. A private node, so the figures do not depend
// on what the test suite did to the stack's shared anvil.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { rpc, rpcBatch } from './benchRpc.ts';
import { compileContract } from './solidity.ts';

const ANVIL = join(import.meta.dirname, '..', 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
/** anvil's first default dev account (unlocked; eth_sendTransaction signs for it). */
const SENDER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266';
const RECEIVER = '0x70997970c51812dc3b44810f64e3ed6f0a8da9d6';

// Each call emits `count` Transfer events from the contract (the "token"), with varied
// holders and values: cheap logs, so a block carries tens of them.
const SPRAY_SOURCE = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;
contract TransferSpray {
    event Transfer(address indexed from, address indexed to, uint256 value);
    function spray(uint256 seed, uint256 count) external {
        for (uint256 i = 0; i < count; i++) {
            emit Transfer(address(uint160(seed * 1000 + i)), address(uint160(seed * 7919 + i + 1)), seed * 1e15 + i);
        }
    }
}`;

export interface AnvilProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Starts anvil on a free 127.0.0.1 port with on-demand mining; resolves once it answers. */
export async function startAnvil(): Promise<AnvilProcess> {
  const port = await freePort();
  const child = spawn(
    ANVIL,
    ['--host', '127.0.0.1', '--port', String(port), '--silent', '--prune-history', '20000', '--no-mining'],
    { stdio: 'ignore' },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('anvil did not start');
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (exited) return;
    process.kill(pid, 'SIGTERM');
    for (let waited = 0; waited < 5_000 && !exited; waited += 50) await new Promise((r) => setTimeout(r, 50));
    if (!exited) process.kill(pid, 'SIGKILL');
  };
  for (let attempt = 0; attempt < 100; attempt++) {
    if (exited) throw new Error('anvil exited at start');
    try {
      await rpc(url, 'eth_chainId');
      return { url, pid, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error('anvil did not answer within 10 s');
}

function compileSpray(): { bytecode: string; spraySelector: string } {
  const { bytecode, selectors } = compileContract(SPRAY_SOURCE, 'TransferSpray', ['spray(uint256,uint256)']);
  return { bytecode, spraySelector: selectors['spray(uint256,uint256)']! };
}

function word(value: number): string {
  return value.toString(16).padStart(64, '0');
}

export interface FillOptions {
  /** Blocks to mine after the deployments. */
  blocks: number;
  /** Spray calls per block (each one transaction). */
  sprayTxsPerBlock: number;
  /** Transfer logs per spray call. */
  logsPerTx: number;
  tokens: number;
}

export interface FilledChain {
  tip: number;
  transactions: number;
  transferLogs: number;
  seconds: number;
}

/**
 * Deploys `tokens` spray contracts, then mines `blocks` blocks, each holding
 * `sprayTxsPerBlock` spray calls (round-robin over the tokens) and one plain ETH transfer.
 */
export async function fillChain(url: string, options: FillOptions): Promise<FilledChain> {
  const started = performance.now();
  const { bytecode, spraySelector } = compileSpray();
  let nonce = Number(await rpc<string>(url, 'eth_getTransactionCount', [SENDER, 'pending']));
  const fees = { maxFeePerGas: '0x174876e800', maxPriorityFeePerGas: '0x3b9aca00' }; // 100 gwei, 1 gwei
  const deployHashes = await rpcBatch<string>(
    url,
    Array.from({ length: options.tokens }, () => ({
      method: 'eth_sendTransaction',
      params: [
        { from: SENDER, data: bytecode, gas: '0x200000', nonce: `0x${(nonce++).toString(16)}`, ...fees },
      ],
    })),
  );
  await rpc(url, 'evm_mine');
  const tokens: string[] = [];
  for (const hash of deployHashes) {
    const receipt = await rpc<{ contractAddress: string; status: string }>(url, 'eth_getTransactionReceipt', [
      hash,
    ]);
    if (receipt.status !== '0x1') throw new Error('spray contract deployment failed');
    tokens.push(receipt.contractAddress);
  }
  let transactions = 0;
  let transferLogs = 0;
  const gas = `0x${(60_000 + options.logsPerTx * 4_000).toString(16)}`;
  for (let block = 0; block < options.blocks; block++) {
    const calls: { method: string; params: unknown[] }[] = [];
    for (let tx = 0; tx < options.sprayTxsPerBlock; tx++) {
      const seed = block * options.sprayTxsPerBlock + tx + 1;
      calls.push({
        method: 'eth_sendTransaction',
        params: [
          {
            from: SENDER,
            to: tokens[seed % tokens.length],
            data: `0x${spraySelector}${word(seed)}${word(options.logsPerTx)}`,
            gas,
            nonce: `0x${(nonce++).toString(16)}`,
            ...fees,
          },
        ],
      });
    }
    calls.push({
      method: 'eth_sendTransaction',
      params: [
        {
          from: SENDER,
          to: RECEIVER,
          value: `0x${(block + 1).toString(16)}`,
          gas: '0x5208',
          nonce: `0x${(nonce++).toString(16)}`,
          ...fees,
        },
      ],
    });
    await rpcBatch(url, calls);
    await rpc(url, 'evm_mine');
    transactions += calls.length;
    transferLogs += options.sprayTxsPerBlock * options.logsPerTx;
  }
  const tip = Number(await rpc<string>(url, 'eth_blockNumber'));
  // A reverted call would leave logs missing: check the last block's receipts carry them all.
  const last = await rpc<{ transactions: string[] }>(url, 'eth_getBlockByNumber', [
    `0x${tip.toString(16)}`,
    false,
  ]);
  if (last.transactions.length !== options.sprayTxsPerBlock + 1)
    throw new Error(
      `block ${tip} holds ${last.transactions.length} transactions, expected ${options.sprayTxsPerBlock + 1}`,
    );
  const logs = await rpc<unknown[]>(url, 'eth_getLogs', [
    { fromBlock: `0x${tip.toString(16)}`, toBlock: `0x${tip.toString(16)}` },
  ]);
  if (logs.length !== options.sprayTxsPerBlock * options.logsPerTx)
    throw new Error(
      `block ${tip} holds ${logs.length} logs, expected ${options.sprayTxsPerBlock * options.logsPerTx}`,
    );
  return { tip, transactions, transferLogs, seconds: (performance.now() - started) / 1000 };
}
