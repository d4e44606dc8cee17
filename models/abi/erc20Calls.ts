// Encoding of the ERC-20 read calls and decoding of their answers.
import { AbiDecodeError, addressToWord, hexBody, wordAt, wordToBigInt } from './abiWords.ts';

/** Selectors: the first 4 bytes of keccak256 of each signature. */
export const ERC20_SELECTORS = {
  'balanceOf(address)': '0x70a08231',
  'decimals()': '0x313ce567',
  'symbol()': '0x95d89b41',
} as const;

export function encodeBalanceOf(holder: string): string {
  return `${ERC20_SELECTORS['balanceOf(address)']}${addressToWord(holder)}`;
}

export function encodeDecimals(): string {
  return ERC20_SELECTORS['decimals()'];
}

export function encodeSymbol(): string {
  return ERC20_SELECTORS['symbol()'];
}

/** A uint256 answer (balanceOf) as an exact decimal string. */
export function decodeUint256Result(data: string): string {
  const word = wordAt(hexBody(data, 'uint256 result'), 0);
  if (word === undefined)
    throw new AbiDecodeError(`uint256 result: expected 32 bytes, got ${(data.length - 2) / 2}`);
  return wordToBigInt(word).toString();
}

/** `decimals()` is a uint8; a word above 255 is not a sane token. */
export function decodeDecimalsResult(data: string): number {
  const value = BigInt(decodeUint256Result(data));
  if (value > 255n) throw new AbiDecodeError(`decimals result ${value} does not fit uint8`);
  return Number(value);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bytesToText(hex: string, what: string): string {
  try {
    // NULs are padding in bytes32 symbols and noise in strings: neither belongs in a symbol.
    return utf8.decode(Buffer.from(hex, 'hex')).replaceAll('\u0000', '');
  } catch {
    throw new AbiDecodeError(`${what}: not valid UTF-8`);
  }
}

/**
 * `symbol()` returns an ABI `string` in current tokens, a `bytes32` in some old ones
 * (MKR, SAI). Exactly 32 bytes of answer means bytes32; otherwise it must be a
 * well-formed dynamic string (offset word, length word, bytes).
 */
export function decodeSymbolResult(data: string): string {
  const body = hexBody(data, 'symbol result');
  if (body.length === 64) return bytesToText(body, 'bytes32 symbol');
  const offsetWord = wordAt(body, 0);
  if (offsetWord === undefined)
    throw new AbiDecodeError(`symbol result: ${body.length / 2} bytes is neither string nor bytes32`);
  const offset = wordToBigInt(offsetWord);
  if (offset % 32n !== 0n || offset + 32n > BigInt(body.length / 2)) {
    throw new AbiDecodeError(`symbol result: string offset ${offset} out of range`);
  }
  const lengthWord = wordAt(body, Number(offset / 32n))!;
  const length = wordToBigInt(lengthWord);
  const start = (Number(offset) + 32) * 2;
  if (length > BigInt((body.length - start) / 2)) {
    throw new AbiDecodeError(`symbol result: string length ${length} exceeds the data`);
  }
  return bytesToText(body.slice(start, start + Number(length) * 2), 'string symbol');
}
