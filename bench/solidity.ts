// Compiling the bench's test contracts with solc (npm, offline): bytecode and the selectors
// of the functions asked for.
import solc from 'solc';

export interface CompiledContract {
  bytecode: string;
  /** By function signature, e.g. `spray(uint256,uint256)` → its 4-byte selector (hex, no 0x). */
  selectors: Record<string, string>;
}

/** Compiles `source` and returns contract `name`; throws unless every signature is there. */
export function compileContract(
  source: string,
  name: string,
  signatures: readonly string[],
): CompiledContract {
  const input = {
    language: 'Solidity',
    sources: { 'Contract.sol': { content: source } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['evm.bytecode.object', 'evm.methodIdentifiers'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<
      string,
      Record<string, { evm: { bytecode: { object: string }; methodIdentifiers: Record<string, string> } }>
    >;
  };
  const errors = (output.errors ?? []).filter((error) => error.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((error) => error.formattedMessage).join('\n'));
  const contract = output.contracts['Contract.sol']?.[name];
  const selectors: Record<string, string> = {};
  for (const signature of signatures) {
    const selector = contract?.evm.methodIdentifiers[signature];
    if (!selector) throw new Error(`${name} did not compile with ${signature}`);
    selectors[signature] = selector;
  }
  return { bytecode: `0x${contract!.evm.bytecode.object}`, selectors };
}
