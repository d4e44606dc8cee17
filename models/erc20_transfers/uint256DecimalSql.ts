// Exact uint256 → decimal text inside DuckDB. DuckDB's integers stop at 128 bits, and
// printing a UHUGEINT is slow (~35k values/s here) while a HUGEINT prints at ~1.8M/s,
// so there are two paths, chosen per row by `uint256FitsHugeintSql`:
// - values < 2^127 (nearly all real transfers): two 64-bit limbs joined in a HUGEINT;
// - larger values: schoolbook long division by 10^18 over four 64-bit limbs, four times,
//   each step a projection of its own so DuckDB computes every intermediate once. Every
//   dividend is below 10^18·2^64 < 2^124, so HUGEINT holds it; the digits are five
//   base-10^18 numbers (10^90 > 2^256), printed and joined.
// test/unit/models/uint256DecimalSql.test.ts checks both paths against JS BigInt.

const DIVISOR = '1000000000000000000::HUGEINT'; // 10^18
const ZEROS_32 = '0'.repeat(32);

function limbSql(hexColumn: string, index: number): string {
  return `('0x' || substr(${hexColumn}, ${1 + index * 16}, 16))::UBIGINT::HUGEINT`;
}

/** True when the 64-hex-digit value is below 2^127. */
export function uint256FitsHugeintSql(hexColumn: string): string {
  return `(substr(${hexColumn}, 1, 32) = '${ZEROS_32}' AND substr(${hexColumn}, 33, 1) < '8')`;
}

/** Decimal text of a value below 2^127 (see uint256FitsHugeintSql). */
export function smallUint256ToDecimalSql(hexColumn: string): string {
  return `((${limbSql(hexColumn, 2)} << 64) | ${limbSql(hexColumn, 3)})::VARCHAR`;
}

/**
 * Wraps `source` (a SELECT with a 64-hex-digit column `hexColumn`, lower-case, no 0x)
 * in the projections of the long division; the result has every column of `source`
 * plus `outputColumn` (decimal text) and helper columns prefixed `u256_`, which the
 * caller leaves out of its final select list.
 */
export function bigUint256ToDecimalSql(source: string, hexColumn: string, outputColumn: string): string {
  let sql = `SELECT *, ${[0, 1, 2, 3].map((i) => `${limbSql(hexColumn, i)} AS u256_n0_${i}`).join(', ')} FROM (${source})`;
  for (let step = 0; step < 4; step++) {
    const n = (i: number): string => `u256_n${step}_${i}`;
    const q = (i: number): string => `u256_n${step + 1}_${i}`;
    const r = (i: number): string => `u256_r${step}_${i}`;
    sql = `SELECT *, ${n(0)} // ${DIVISOR} AS ${q(0)}, ${n(0)} % ${DIVISOR} AS ${r(0)} FROM (${sql})`;
    for (let i = 1; i < 4; i++) {
      const dividend = `((${r(i - 1)} << 64) | ${n(i)})`;
      sql = `SELECT *, ${dividend} // ${DIVISOR} AS ${q(i)}, ${dividend} % ${DIVISOR} AS ${r(i)} FROM (${sql})`;
    }
  }
  // After four divisions the quotient (< 2^256 / 10^72 < 1.2·10^5) sits in its last limb.
  const digits = [
    `u256_n4_3::BIGINT::VARCHAR`,
    ...[3, 2, 1, 0].map((step) => `lpad(u256_r${step}_3::BIGINT::VARCHAR, 18, '0')`),
  ];
  // Values here are ≥ 2^127, so trimming leading zeros never leaves an empty string.
  return `SELECT *, ltrim(${digits.join(' || ')}, '0') AS ${outputColumn} FROM (${sql})`;
}

/**
 * The same conversion as one SQL expression, for ad-hoc queries and benchmarks. Exact,
 * but every intermediate of the long division is spelled out again where it is used,
 * so values ≥ 2^127 cost far more here than in the staged form the model uses.
 */
export function uint256HexToDecimalSql(hexColumn: string): string {
  let limbs = [0, 1, 2, 3].map((i) => limbSql(hexColumn, i));
  const remainders: string[] = [];
  for (let step = 0; step < 4; step++) {
    const quotient: string[] = [];
    let remainder = '';
    for (const limb of limbs) {
      const dividend = remainder === '' ? limb : `((${remainder}) << 64 | ${limb})`;
      quotient.push(`((${dividend}) // ${DIVISOR})`);
      remainder = `((${dividend}) % ${DIVISOR})`;
    }
    remainders.push(remainder);
    limbs = quotient;
  }
  const digits = [
    `(${limbs[3]})::BIGINT::VARCHAR`,
    ...remainders.reverse().map((digit) => `lpad((${digit})::BIGINT::VARCHAR, 18, '0')`),
  ];
  return `CASE WHEN ${uint256FitsHugeintSql(hexColumn)} THEN ${smallUint256ToDecimalSql(hexColumn)}
    ELSE ltrim(${digits.join(' || ')}, '0') END`;
}
