/**
 * Secrets out of text: passwords inside URLs (`scheme://user:pw@host`) and in query strings (`?password=…`,
 * `&sslpassword=…`, `?token=…`). Every message that may show a connection string goes through it.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi, '$1***@')
    .replace(
      /([?&;](?:password|passwd|pwd|pass|secret|token|sslpassword|sslkey|api[_-]?key)=)[^&\s'"]*/gi,
      '$1***',
    );
}
