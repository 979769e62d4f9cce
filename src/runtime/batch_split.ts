// Splits one group commit into consecutive groups whose log entries each fit in one append.
// Sizes are measured (each command's events encoded alone, less an empty entry's bytes), so
// the split follows the real envelope; the caller still checks each group's encoded entry
// and splits again when a group turns out larger than measured.

/** What a group commit's commands weigh, in encoded bytes. */
export interface BatchSizes {
  /** bytes of an entry with no events (envelope, signature, writer, epoch, ...) */
  base: number;
  /** per command: the bytes its events add to an entry (0 for a refused command) */
  parts: number[];
}

/**
 * Consecutive groups of command indices, in order, each with base + sum(parts) <= limit (a
 * command whose part alone is over it gets a group of its own; the caller refuses it).
 * `slack` covers the few bytes that depend on the whole entry (msgpack length prefixes of the
 * events array and of the entry): it is taken off the limit for every group but a lone command.
 * Never returns one group for more than one command when the caller asks to split: when the
 * measured sizes say everything fits, the commands are halved instead.
 */
export function splitBySize(sizes: BatchSizes, limit: number, slack: number): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let used = sizes.base;
  sizes.parts.forEach((part, i) => {
    if (current.length > 0 && used + part > limit - slack) {
      groups.push(current);
      current = [];
      used = sizes.base;
    }
    current.push(i);
    used += part;
  });
  if (current.length > 0) groups.push(current);
  if (groups.length === 1 && groups[0]!.length > 1) {
    const all = groups[0]!;
    const half = Math.ceil(all.length / 2);
    return [all.slice(0, half), all.slice(half)];
  }
  return groups;
}
