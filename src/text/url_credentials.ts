// URLs as they may be shown: NATS URLs can carry `user:password@`, which logs and error
// messages must not repeat.

/** `url` with a `user:password@` part (nats://u:p@host:4222) replaced by `[redacted]@`. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1[redacted]@");
}
