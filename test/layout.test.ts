/**
 * Facts of the code's layout (issue #20) that a reader relies on: the
 * seccomp return values are spelled in one place (src/bpf/actions.ts; the C
 * side takes them from <linux/seccomp.h>), so a new action or a typo cannot
 * hide in a literal elsewhere.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "./helpers/cli.js";

function files(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => join(e.parentPath, e.name));
}

/** KILL_PROCESS's 0x80000000 is also INT_MIN and __AUDIT_ARCH_64BIT, so it is not searched for. */
const RET_VALUES = ["0x7fff0000", "0x7ffc0000", "0x7ff00000", "0x7fc00000", "0x00050000", "0x00030000"];

test("SECCOMP_RET_* values are written only in src/bpf/actions.ts (the C side uses <linux/seccomp.h>)", () => {
  const found: string[] = [];
  for (const f of [...files(join(ROOT, "src"), ".ts"), ...files(join(ROOT, "native"), ".c")]) {
    const rel = relative(ROOT, f);
    if (rel === join("src", "bpf", "actions.ts")) continue;
    readFileSync(f, "utf8")
      .split("\n")
      .forEach((line, i) => {
        const code = line.replace(/\/\/.*$|\/\*.*?\*\/|^\s*\*.*$/g, "");
        for (const v of RET_VALUES) if (new RegExp(`\\b${v}U?\\b`, "i").test(code)) found.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(found, []);
});
