/** Output helpers shared by CLI commands. Library code never prints; the CLI does. */
import { toJson } from "../export/json.js";

export function printJson(value: unknown): void {
  process.stdout.write(toJson(value) + "\n");
}

/** Left-aligned text table. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n");
}
