/**
 * The one JSON writer of syscage: `JSON.stringify` with bigints written as
 * exact integer literals (u64 values are never rounded to a double). Every
 * JSON syscage writes — profiles, its own policy format, compiled programs,
 * the CLI's `--json` — goes through {@link toJson}.
 */

/** The placeholder a bigint becomes inside JSON.stringify before it is written as a literal; `n` > 0 when a string of the value already holds the first one. */
function marker(n: number): string {
  // `@` is never produced by JSON's string escapes, so the marker appears in the text only where a string or key of the value has it.
  return n === 0 ? "@@syscage-bigint@@" : `@@syscage-bigint-${n}@@`;
}

/**
 * `value` as JSON text, `indent` spaces per level (2: the layout of every
 * file syscage writes), without a final newline. Bigints become exact
 * integer literals; everything else is as `JSON.stringify` writes it. A
 * string or key that happens to contain the placeholder syscage uses for
 * bigints is written unchanged (another placeholder is chosen).
 */
export function toJson(value: unknown, indent = 2): string {
  for (let n = 0; ; n++) {
    const m = marker(n);
    let clash = false;
    const marked = JSON.stringify(
      value,
      (k: string, v: unknown) => {
        if (k.includes(m) || (typeof v === "string" && v.includes(m))) clash = true;
        return typeof v === "bigint" ? `${m}${v.toString()}` : v;
      },
      indent,
    );
    if (clash) continue;
    return marked.replace(new RegExp(`"${m}(-?\\d+)"`, "g"), "$1");
  }
}
