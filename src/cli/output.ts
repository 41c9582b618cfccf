/** Output helpers shared by CLI commands. Library code never prints; the CLI does. */

/** JSON with BigInt values written as decimal numbers (exact, never rounded). */
export function toJson(value: unknown, indent = 2): string {
  const marked = JSON.stringify(
    value,
    (_k, v: unknown) => (typeof v === "bigint" ? `\u0000big:${v.toString()}` : v),
    indent,
  );
  return marked.replace(/"\\u0000big:(-?\d+)"/g, "$1");
}

export function printJson(value: unknown): void {
  process.stdout.write(toJson(value) + "\n");
}

/** Left-aligned text table. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}
