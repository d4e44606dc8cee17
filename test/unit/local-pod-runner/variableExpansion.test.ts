import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandVariables, lookupIn } from '../../../devtools/local-pod-runner/variableExpansion.ts';

const env = lookupIn(
  new Map([
    ['GREETING', 'hello'],
    ['EMPTY', ''],
    ['NESTED', '$(GREETING)'],
  ]),
);

const cases: [string, string, string][] = [
  ['plain text', 'echo hi', 'echo hi'],
  ['a defined variable', 'say $(GREETING)', 'say hello'],
  ['two variables side by side', '$(GREETING)$(GREETING)', 'hellohello'],
  ['an undefined variable stays as written', 'x=$(MISSING)', 'x=$(MISSING)'],
  ['an empty value is still a value', '[$(EMPTY)]', '[]'],
  ['$$ escapes a dollar', 'cost $$5', 'cost $5'],
  ['$$(NAME) is a literal reference', 'echo $$(GREETING)', 'echo $(GREETING)'],
  ['$$$(NAME) is a dollar then the value', '$$$(GREETING)', '$hello'],
  ['shell syntax is left for the shell', 'echo $GREETING ${GREETING}', 'echo $GREETING ${GREETING}'],
  ['an unclosed reference stays', 'echo $(GREETING', 'echo $(GREETING'],
  ['a trailing dollar stays', 'price$', 'price$'],
  ['values are not expanded again', '$(NESTED)', '$(GREETING)'],
  ['an empty name is looked up and kept', '$()', '$()'],
];

for (const [name, input, expected] of cases) {
  test(`expandVariables: ${name}`, () => {
    assert.equal(expandVariables(input, env), expected);
  });
}
