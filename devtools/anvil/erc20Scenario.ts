// ERC-20 tokens on an anvil node, and a transfer scenario whose every event the caller
// knows in advance: shared by the tests, the demo and the benchmarks. anvil is shared by
// tests running in parallel, so everything here is keyed by this scenario's own contract
// addresses and recorded block numbers, never by "the next block" or a contiguous range.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import solc from 'solc';
import { JsonRpcClient } from '../../adapters/ethereum/jsonRpcClient.ts';

export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

const TOKEN_SOURCE = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

abstract contract TokenBase {
    string public name;
    uint8 public decimals;
    uint256 public totalSupply;
    address public owner;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(string memory name_, uint8 decimals_) {
        name = name_;
        decimals = decimals_;
        owner = msg.sender;
    }

    function mint(address to, uint256 value) external {
        require(msg.sender == owner, "only owner");
        totalSupply += value;
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }

    /// count mints of value in one transaction: a block with more logs than a provider returns.
    function mintMany(address to, uint256 value, uint256 count) external {
        require(msg.sender == owner, "only owner");
        totalSupply += value * count;
        balanceOf[to] += value * count;
        for (uint256 i = 0; i < count; i++) emit Transfer(address(0), to, value);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= value, "allowance");
        allowance[from][msg.sender] = allowed - value;
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) internal {
        require(balanceOf[from] >= value, "balance");
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}

/// Today's tokens: symbol() returns an ABI string.
contract StringSymbolToken is TokenBase {
    string public symbol;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) TokenBase(name_, decimals_) {
        symbol = symbol_;
    }
}

/// Old tokens (MKR, SAI): symbol() returns bytes32.
contract Bytes32SymbolToken is TokenBase {
    bytes32 public symbol;

    constructor(string memory name_, bytes32 symbol_, uint8 decimals_) TokenBase(name_, decimals_) {
        symbol = symbol_;
    }
}

/// Logs that share the Transfer topic but are not ERC-20 transfers.
contract TransferLookalikes {
    bytes32 constant TRANSFER = keccak256("Transfer(address,address,uint256)");

    /// ERC-721 style: the token id is indexed, so 4 topics and no data.
    function emitNftTransfer(address from, address to, uint256 tokenId) external {
        bytes32 topic = TRANSFER;
        assembly { log4(0, 0, topic, from, to, tokenId) }
    }

    /// Right topics, but the value word is cut short (16 bytes).
    function emitShortTransfer(address from, address to) external {
        bytes32 topic = TRANSFER;
        assembly {
            mstore(0, 0x1234)
            log3(0, 16, topic, from, to)
        }
    }
}
`;

export interface CompiledContract {
  abi: unknown[];
  bytecode: string;
  /** Function signature → 4-byte selector (hex, no 0x), as solc computed them. */
  methodIdentifiers: Record<string, string>;
}

export interface CompiledContracts {
  StringSymbolToken: CompiledContract;
  Bytes32SymbolToken: CompiledContract;
  TransferLookalikes: CompiledContract;
}

let compiled: CompiledContracts | undefined;

/** Compiles offline with the solc npm package; the output is cached on disk by source hash. */
export function compileContracts(): CompiledContracts {
  if (compiled) return compiled;
  const hash = createHash('sha256').update(solc.version()).update(TOKEN_SOURCE).digest('hex').slice(0, 16);
  const cacheDir = join(tmpdir(), 'model-runner-solc');
  const cacheFile = join(cacheDir, `erc20-${hash}.json`);
  try {
    compiled = JSON.parse(readFileSync(cacheFile, 'utf8')) as CompiledContracts;
    return compiled;
  } catch {
    // not cached yet
  }
  const input = {
    language: 'Solidity',
    sources: { 'Tokens.sol': { content: TOKEN_SOURCE } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.methodIdentifiers'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<
      string,
      Record<
        string,
        { abi: unknown[]; evm: { bytecode: { object: string }; methodIdentifiers: Record<string, string> } }
      >
    >;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const pick = (name: keyof CompiledContracts): CompiledContract => {
    const contract = output.contracts['Tokens.sol']?.[name];
    if (!contract) throw new Error(`solc produced no ${name}`);
    return {
      abi: contract.abi,
      bytecode: `0x${contract.evm.bytecode.object}`,
      methodIdentifiers: contract.evm.methodIdentifiers,
    };
  };
  compiled = {
    StringSymbolToken: pick('StringSymbolToken'),
    Bytes32SymbolToken: pick('Bytes32SymbolToken'),
    TransferLookalikes: pick('TransferLookalikes'),
  };
  mkdirSync(cacheDir, { recursive: true });
  const temp = `${cacheFile}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(compiled));
  renameSync(temp, cacheFile);
  return compiled;
}

// ---- minimal ABI encoding for the fixture's own transactions ----

function word(value: bigint): string {
  if (value < 0n || value >= 2n ** 256n) throw new RangeError(`not a uint256: ${value}`);
  return value.toString(16).padStart(64, '0');
}

function addressWord(address: string): string {
  return address.slice(2).toLowerCase().padStart(64, '0');
}

function stringTail(text: string): string {
  const bytes = Buffer.from(text, 'utf8').toString('hex');
  return word(BigInt(bytes.length / 2)) + bytes.padEnd(Math.ceil(bytes.length / 64) * 64, '0');
}

function bytes32Word(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > 32) throw new RangeError('bytes32 text longer than 32 bytes');
  return bytes.toString('hex').padEnd(64, '0');
}

function selector(contract: CompiledContract, signature: string): string {
  const id = contract.methodIdentifiers[signature];
  if (!id) throw new Error(`no method ${signature}`);
  return `0x${id}`;
}

// ---- talking to anvil ----

export interface Erc20Token {
  address: string;
  name: string;
  symbol: string;
  decimals: number;
  symbolKind: 'string' | 'bytes32';
}

export interface SentTransfer {
  token: string;
  from: string;
  to: string;
  /** Exact decimal. */
  value: string;
  blockNumber: number;
  transactionHash: string;
}

export interface SentLookalike {
  emitter: string;
  kind: 'nft' | 'short';
  blockNumber: number;
  transactionHash: string;
}

export interface Erc20Scenario {
  tokens: Erc20Token[];
  lookalikes: string;
  /** Every Transfer event the tokens emitted (mints included, from the zero address), in chain order. */
  transfers: SentTransfer[];
  lookalikeLogs: SentLookalike[];
  /** Every address that ever held or received a token of the scenario. */
  holders: string[];
  /** First block of the scenario (the first deployment) and its last transaction's block. */
  fromBlock: number;
  toBlock: number;
  /** Final balance per token per holder, by replaying `transfers`. */
  expectedBalances: Map<string, Map<string, bigint>>;
}

interface Receipt {
  status: string;
  blockNumber: string;
  contractAddress: string | null;
  transactionHash: string;
}

export class AnvilSession {
  readonly rpc: JsonRpcClient;
  /**
   * Accounts of this session alone (impersonated and funded): tests run in parallel on
   * one anvil, and two of them sending from the same dev account at once would race for
   * its nonce ("replacement transaction underpriced").
   */
  accounts: string[] = [];

  constructor(rpcUrl: string) {
    this.rpc = new JsonRpcClient({ url: rpcUrl, maxAttempts: 3, maxBatchSize: 200 });
  }

  async init(accountCount = 6): Promise<this> {
    this.accounts = Array.from({ length: accountCount }, () => `0x${randomBytes(20).toString('hex')}`);
    await this.rpc.requestBatch(
      this.accounts.flatMap((account) => [
        { method: 'anvil_impersonateAccount', params: [account] },
        { method: 'anvil_setBalance', params: [account, '0x3635c9adc5dea00000'] }, // 1,000 ETH
      ]),
    );
    return this;
  }

  async blockNumber(): Promise<number> {
    return Number(BigInt((await this.rpc.request('eth_blockNumber', [])) as string));
  }

  async send(from: string, to: string | null, data: string): Promise<string> {
    const tx: Record<string, string> = { from, data, gas: '0x2dc6c0' };
    if (to !== null) tx.to = to;
    return (await this.rpc.request('eth_sendTransaction', [tx])) as string;
  }

  /**
   * Receipts of many transactions through batched requests; any revert throws. anvil
   * answers eth_sendTransaction before the receipt is queryable, so missing ones are polled.
   */
  async receipts(hashes: readonly string[], timeoutMs = 30_000): Promise<Receipt[]> {
    const found = new Map<string, Receipt>();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = [...new Set(hashes.filter((hash) => !found.has(hash)))];
      if (missing.length === 0) break;
      const results = (await this.rpc.requestBatch(
        missing.map((hash) => ({ method: 'eth_getTransactionReceipt', params: [hash] })),
      )) as (Receipt | null)[];
      results.forEach((receipt, i) => {
        if (receipt) found.set(missing[i]!, receipt);
      });
      if (found.size === new Set(hashes).size) break;
      if (Date.now() > deadline)
        throw new Error(`no receipt for ${missing.length} transactions after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return hashes.map((hash) => {
      const receipt = found.get(hash)!;
      if (receipt.status !== '0x1') throw new Error(`transaction ${hash} reverted`);
      return receipt;
    });
  }

  async mine(blocks: number): Promise<void> {
    if (blocks > 0) await this.rpc.request('anvil_mine', [`0x${blocks.toString(16)}`]);
  }

  async deploy(contract: CompiledContract, constructorArgs: string): Promise<string> {
    const hash = await this.send(this.accounts[0]!, null, contract.bytecode + constructorArgs);
    const [receipt] = await this.receipts([hash]);
    return receipt!.contractAddress!.toLowerCase();
  }

  async deployToken(
    kind: 'string' | 'bytes32',
    name: string,
    symbol: string,
    decimals: number,
  ): Promise<Erc20Token> {
    const contracts = compileContracts();
    // (name, symbol, decimals): dynamic name at offset 0x60; symbol inline when bytes32.
    const args =
      kind === 'string'
        ? word(0x60n) +
          word(0x60n + 32n * BigInt(stringTail(name).length / 64)) +
          word(BigInt(decimals)) +
          stringTail(name) +
          stringTail(symbol)
        : word(0x60n) + bytes32Word(symbol) + word(BigInt(decimals)) + stringTail(name);
    const address = await this.deploy(
      kind === 'string' ? contracts.StringSymbolToken : contracts.Bytes32SymbolToken,
      args,
    );
    return { address, name, symbol, decimals, symbolKind: kind };
  }

  /** Direct `balanceOf` read, for comparing with model output. */
  async balanceOf(token: string, holder: string, blockNumber: number): Promise<bigint> {
    const data = `${selector(compileContracts().StringSymbolToken, 'balanceOf(address)')}${addressWord(holder)}`;
    const result = (await this.rpc.request('eth_call', [
      { to: token, data },
      `0x${blockNumber.toString(16)}`,
    ])) as string;
    return BigInt(result);
  }
}

/** A small deterministic PRNG, so a failing scenario can be replayed from its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export interface ScenarioOptions {
  /** Token transfers to make (mints and the lookalike logs come on top). Default 40. */
  transfers?: number;
  /**
   * Blocks to spread them over, at least. Default 150. anvil mines ~100 empty blocks/s
   * and keeps historical state for only a few thousand, so ask for many only when needed.
   */
  minBlockSpan?: number;
  /** Mints in one transaction, right after the first ones: a block with this many Transfer logs. Default 0. */
  crowdedBlockMints?: number;
  seed?: number;
}

/**
 * Two tokens (a string-symbol one with 18 decimals and a bytes32-symbol one with 6),
 * mints to several accounts of its own, then `transfers` transfers between them and a few
 * receive-only addresses — self-transfers, zero values, transferFrom, values above
 * 2^128 — spread over at least `minBlockSpan` blocks with `anvil_mine`, plus logs
 * that only look like transfers. Returns exactly what happened on chain.
 */
export async function runErc20Scenario(
  rpcUrl: string,
  options: ScenarioOptions = {},
): Promise<Erc20Scenario> {
  const transferCount = options.transfers ?? 40;
  const minBlockSpan = options.minBlockSpan ?? 150;
  const seed = options.seed ?? 0x5eed;
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

  const anvil = await new AnvilSession(rpcUrl).init();
  const contracts = compileContracts();
  const fromBlock = (await anvil.blockNumber()) + 1;
  const tokenA = await anvil.deployToken('string', 'Fixture Token', 'FIXA', 18);
  const tokenB = await anvil.deployToken('bytes32', 'Old Style Token', 'FIXB', 6);
  const lookalikes = await anvil.deploy(contracts.TransferLookalikes, '');
  const tokens = [tokenA, tokenB];

  const senders = anvil.accounts.slice(0, 5);
  const receiveOnly = [1, 2, 3].map(
    (i) => `0x${createHash('sha256').update(`holder-${seed}-${i}`).digest('hex').slice(0, 40)}`,
  );
  const holders = [...senders, ...receiveOnly];
  const owner = anvil.accounts[0]!;

  const balances = new Map<string, Map<string, bigint>>(tokens.map((t) => [t.address, new Map()]));
  const balance = (token: string, holder: string): bigint => balances.get(token)!.get(holder) ?? 0n;
  const credit = (token: string, holder: string, delta: bigint): void => {
    balances.get(token)!.set(holder, balance(token, holder) + delta);
  };

  // What we send, with the transfer it must emit; block numbers come from receipts.
  const pending: {
    hash: string;
    transfer?: Omit<SentTransfer, 'blockNumber' | 'transactionHash'>;
    lookalike?: 'nft' | 'short';
  }[] = [];
  const transferSelector = selector(contracts.StringSymbolToken, 'transfer(address,uint256)');
  const mintSelector = selector(contracts.StringSymbolToken, 'mint(address,uint256)');

  const mintAmounts = [10n ** 30n, 2n ** 200n + 12_345n];
  for (const token of tokens) {
    for (const [i, holder] of senders.entries()) {
      const value = mintAmounts[i % 2]!;
      const hash = await anvil.send(owner, token.address, mintSelector + addressWord(holder) + word(value));
      credit(token.address, holder, value);
      pending.push({
        hash,
        transfer: { token: token.address, from: ZERO_ADDRESS, to: holder, value: value.toString() },
      });
    }
  }

  const crowdedMints = options.crowdedBlockMints ?? 0;
  if (crowdedMints > 0) {
    const [holder, value] = [senders[2]!, 7n];
    const hash = await anvil.send(
      owner,
      tokenA.address,
      selector(contracts.StringSymbolToken, 'mintMany(address,uint256,uint256)') +
        addressWord(holder) +
        word(value) +
        word(BigInt(crowdedMints)),
    );
    credit(tokenA.address, holder, value * BigInt(crowdedMints));
    for (let i = 0; i < crowdedMints; i++) {
      pending.push({
        hash,
        transfer: { token: tokenA.address, from: ZERO_ADDRESS, to: holder, value: value.toString() },
      });
    }
  }

  // One spender approved once per token; transferFrom spends from that allowance.
  const spender = anvil.accounts[5]!;
  const approveSelector = selector(contracts.StringSymbolToken, 'approve(address,uint256)');
  const transferFromSelector = selector(contracts.StringSymbolToken, 'transferFrom(address,address,uint256)');
  for (const token of tokens) {
    await anvil.send(senders[1]!, token.address, approveSelector + addressWord(spender) + word(2n ** 255n));
  }

  const blocksBetween = Math.ceil(minBlockSpan / transferCount);
  for (let i = 0; i < transferCount; i++) {
    const token = pick(tokens).address;
    const shape = i % 10;
    let from = pick(senders);
    let to = pick(holders);
    let value: bigint;
    if (shape === 0) to = from; // self-transfer
    const available = balance(token, from);
    if (shape === 1 || available === 0n) value = 0n;
    else if (shape === 2)
      value = available / 3n; // large: above 2^128 for half the holders
    else value = BigInt(Math.floor(random() * 1_000_000)) % (available + 1n);

    let hash: string;
    if (shape === 3) {
      from = senders[1]!;
      to = pick(holders);
      value = balance(token, from) / 7n;
      hash = await anvil.send(
        spender,
        token,
        transferFromSelector + addressWord(from) + addressWord(to) + word(value),
      );
    } else {
      hash = await anvil.send(from, token, transferSelector + addressWord(to) + word(value));
    }
    credit(token, from, -value);
    credit(token, to, value);
    pending.push({ hash, transfer: { token, from, to, value: value.toString() } });

    if (i % 50 === 25) {
      const nftHash = await anvil.send(
        owner,
        lookalikes,
        selector(contracts.TransferLookalikes, 'emitNftTransfer(address,address,uint256)') +
          addressWord(from) +
          addressWord(to) +
          word(BigInt(i)),
      );
      pending.push({ hash: nftHash, lookalike: 'nft' });
      const shortHash = await anvil.send(
        owner,
        lookalikes,
        selector(contracts.TransferLookalikes, 'emitShortTransfer(address,address)') +
          addressWord(from) +
          addressWord(to),
      );
      pending.push({ hash: shortHash, lookalike: 'short' });
    }
    await anvil.mine(Math.floor(random() * blocksBetween * 2));
  }

  const receipts = await anvil.receipts(pending.map((p) => p.hash));
  const transfers: SentTransfer[] = [];
  const lookalikeLogs: SentLookalike[] = [];
  pending.forEach((sent, i) => {
    const receipt = receipts[i]!;
    const blockNumber = Number(BigInt(receipt.blockNumber));
    if (sent.transfer)
      transfers.push({
        ...sent.transfer,
        blockNumber,
        transactionHash: receipt.transactionHash.toLowerCase(),
      });
    if (sent.lookalike) {
      lookalikeLogs.push({
        emitter: lookalikes,
        kind: sent.lookalike,
        blockNumber,
        transactionHash: receipt.transactionHash.toLowerCase(),
      });
    }
  });
  let toBlock = Math.max(...transfers.map((t) => t.blockNumber));
  if (toBlock - fromBlock + 1 < minBlockSpan) {
    // Random gaps fell short: make the span, and end it on a transfer of our own.
    await anvil.mine(minBlockSpan - (toBlock - fromBlock));
    const hash = await anvil.send(
      senders[0]!,
      tokenA.address,
      transferSelector + addressWord(senders[0]!) + word(0n),
    );
    const [receipt] = await anvil.receipts([hash]);
    toBlock = Number(BigInt(receipt!.blockNumber));
    transfers.push({
      token: tokenA.address,
      from: senders[0]!,
      to: senders[0]!,
      value: '0',
      blockNumber: toBlock,
      transactionHash: receipt!.transactionHash.toLowerCase(),
    });
  }
  return {
    tokens,
    lookalikes,
    transfers,
    lookalikeLogs,
    holders,
    fromBlock,
    toBlock,
    expectedBalances: balances,
  };
}
