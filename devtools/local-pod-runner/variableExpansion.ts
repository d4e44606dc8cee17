// Kubernetes' `$(VAR)` expansion, as the kubelet applies it to env values and to
// a container's command and args:
//   `$(NAME)` becomes NAME's value when NAME is defined and stays as written otherwise,
//   `$$` is an escaped `$` (so `$$(NAME)` yields the literal `$(NAME)`),
//   any other `$`, and an unclosed `$(`, stay as written.
// Shell syntax such as `$NAME` or `${NAME}` is left alone for the shell.

export type VariableLookup = (name: string) => string | undefined;

export function expandVariables(input: string, lookup: VariableLookup): string {
  let output = '';
  let cursor = 0;
  while (cursor < input.length) {
    const dollar = input.indexOf('$', cursor);
    if (dollar < 0 || dollar === input.length - 1) {
      output += input.slice(cursor);
      break;
    }
    output += input.slice(cursor, dollar);
    const next = input[dollar + 1];
    if (next === '$') {
      output += '$';
      cursor = dollar + 2;
    } else if (next === '(') {
      const close = input.indexOf(')', dollar + 2);
      if (close < 0) {
        output += '$(';
        cursor = dollar + 2;
      } else {
        const name = input.slice(dollar + 2, close);
        output += lookup(name) ?? `$(${name})`;
        cursor = close + 1;
      }
    } else {
      output += '$';
      cursor = dollar + 1;
    }
  }
  return output;
}

/** Looks a name up in an ordered environment (a Map keeps the kubelet's "later wins" order). */
export function lookupIn(env: ReadonlyMap<string, string>): VariableLookup {
  return (name) => env.get(name);
}
