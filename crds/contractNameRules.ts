// The name rules of contract/names.ts, written into the shared schema definitions that carry
// an `x-model-runner-name-rule` marker: their maxLength and CEL rule come from the contract,
// so admission accepts exactly the names the operator and the workers accept. The marker is
// an author-only keyword and never reaches a CRD.
import {
  CHAIN_NAME,
  MODEL_NAME,
  MODEL_VERSION,
  type NameRule,
  QUEUE_NAME,
  TOPIC_NAME,
} from '../contract/names.ts';
import { isJsonObject, type JsonSchema, type SchemaDocuments } from './schemaRefs.ts';

/** The rules a schema definition may name with `"x-model-runner-name-rule": "<key>"`. */
export const SCHEMA_NAME_RULES: Readonly<Record<string, NameRule>> = {
  chain: CHAIN_NAME,
  model: MODEL_NAME,
  modelVersion: MODEL_VERSION,
  queue: QUEUE_NAME,
  topic: TOPIC_NAME,
};

export const NAME_RULE_KEYWORD = 'x-model-runner-name-rule';

/** A double-quoted CEL string literal. */
function celString(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** The CEL validation of one rule: the pattern, and a message quoting the bad value. */
export function celNameValidation(rule: NameRule): JsonSchema {
  const must = `must be ${rule.shape} (e.g. ${rule.examples.join(', ')})`;
  return {
    rule: `self.matches(${celString(rule.pattern.source)})`,
    message: must,
    messageExpression: `${celString(`${rule.what} "`)} + self + ${celString(`" ${must}`)}`,
  };
}

function withRule(definition: JsonSchema, key: unknown, where: string): JsonSchema {
  const rule = typeof key === 'string' ? SCHEMA_NAME_RULES[key] : undefined;
  if (!rule) throw new Error(`${where}: ${NAME_RULE_KEYWORD} ${JSON.stringify(key)} names no contract rule`);
  const { [NAME_RULE_KEYWORD]: _marker, ...rest } = definition;
  return { ...rest, maxLength: rule.maxLength, 'x-kubernetes-validations': [celNameValidation(rule)] };
}

/** Every document with the marked definitions (at any depth) filled in from the contract. */
export function applyContractNameRules(documents: SchemaDocuments): SchemaDocuments {
  const fill = (node: unknown, where: string): unknown => {
    if (Array.isArray(node)) return node.map((item, i) => fill(item, `${where}[${i}]`));
    if (!isJsonObject(node)) return node;
    const filled = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fill(v, `${where}.${k}`)]));
    return NAME_RULE_KEYWORD in filled ? withRule(filled, filled[NAME_RULE_KEYWORD], where) : filled;
  };
  return new Map([...documents].map(([file, document]) => [file, fill(document, file) as JsonSchema]));
}
