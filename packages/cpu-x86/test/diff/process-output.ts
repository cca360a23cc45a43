/**
 * What a failed `execFileSync` printed on stderr, to say why a build step of a runner failed; the
 * error itself when it printed nothing.
 */
export function stderrOf(error: unknown): unknown {
  if (typeof error === 'object' && error !== null && 'stderr' in error) {
    const stderr = (error as { stderr: unknown }).stderr;
    if (stderr instanceof Uint8Array && stderr.length > 0) return new TextDecoder().decode(stderr);
  }
  return error;
}
