// Connection URLs carry passwords (amqp://user:pass@…, http://default:pass@…): anything that
// logs or reports one goes through here first.

/** The URL with its password replaced by `***`; a value that is not a URL is not echoed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}
