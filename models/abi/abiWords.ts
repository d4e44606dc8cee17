// The few ABI primitives the ERC-20 models need: 32-byte words in hex strings.
// Small on purpose: a full ABI library costs more to load than these models decode.

export class AbiDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbiDecodeError';
  }
}

const HEX_BODY = /^[0-9a-f]*$/;

/** Hex body of `0x…` data, lower-cased, validated to whole bytes. */
export function hexBody(data: string, what: string): string {
  if (typeof data !== 'string' || !data.startsWith('0x'))
    throw new AbiDecodeError(`${what}: not 0x-prefixed hex`);
  const body = data.slice(2).toLowerCase();
  if (body.length % 2 !== 0 || !HEX_BODY.test(body)) throw new AbiDecodeError(`${what}: not whole hex bytes`);
  return body;
}

/** The `index`-th 32-byte word of a hex body, or undefined past the end. */
export function wordAt(body: string, index: number): string | undefined {
  const start = index * 64;
  return body.length >= start + 64 ? body.slice(start, start + 64) : undefined;
}

export function wordToBigInt(word: string): bigint {
  return BigInt(`0x${word}`);
}

/** An address is a word whose first 12 bytes are zero. */
export function wordToAddress(word: string): string | undefined {
  return word.startsWith('000000000000000000000000') ? `0x${word.slice(24)}` : undefined;
}

export function addressToWord(address: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new AbiDecodeError(`not an address: ${address}`);
  return address.slice(2).toLowerCase().padStart(64, '0');
}
