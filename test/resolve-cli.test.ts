/**
 * `syscage resolve`, run as a user runs it: a child process from the
 * repository root, checking stdout, stderr and the exit code. Expected
 * numbers are kernel facts or come from libseccomp's scmp_sys_resolver.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ABI_NAMES } from "../src/abi/arch.js";
import { needOracle } from "./helpers/oracles.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function syscage(...args: string[]): Run {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A failure as the CLI must report it: exit 1, nothing on stdout, one `syscage:` line, no stack. */
function assertOneLineError(r: Run, ...mustContain: string[]): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, "");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^syscage: /);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:/, "stack trace or raw error on stderr");
  for (const s of mustContain) assert.ok(lines[0]!.includes(s), `stderr lacks ${JSON.stringify(s)}: ${lines[0]}`);
}

/** Parses the `--arch all` text table into ABI → cell. */
function parseAllTable(stdout: string): Map<string, string> {
  const lines = stdout.trimEnd().split("\n");
  const rows = lines.slice(1).map((l) => l.trim().split(/\s+/));
  for (const r of rows) assert.equal(r.length, 2, `bad row ${r.join(" ")}`);
  return new Map(rows.map((r) => [r[0]!, r[1]!]));
}

describe("syscage resolve", () => {
  test("name → number (x86_64 openat = 257)", () => {
    const r = syscage("resolve", "--arch", "x86_64", "openat");
    assert.deepEqual(r, { code: 0, stdout: "257\n", stderr: "" });
  });

  test("number → name, decimal and hex, offsets included", () => {
    assert.deepEqual(syscage("resolve", "--arch", "aarch64", "56"), { code: 0, stdout: "openat\n", stderr: "" });
    assert.deepEqual(syscage("resolve", "--arch", "x32", "0x40000101"), { code: 0, stdout: "openat\n", stderr: "" });
    assert.deepEqual(syscage("resolve", "-a", "mips", "4003"), { code: 0, stdout: "read\n", stderr: "" });
  });

  test("ABI spellings from uname / Go are accepted", () => {
    assert.deepEqual(syscage("resolve", "--arch", "arm64", "openat"), { code: 0, stdout: "56\n", stderr: "" });
  });

  test("default arch is the host's native ABI (same answer as scmp_sys_resolver without -a)", (t) => {
    if (!needOracle(t, "scmp_sys_resolver")) return;
    const oracle = spawnSync("scmp_sys_resolver", ["openat"], { encoding: "utf8" });
    assert.equal(oracle.status, 0);
    const r = syscage("resolve", "openat");
    assert.deepEqual(r, { code: 0, stdout: oracle.stdout.trim() + "\n", stderr: "" });
  });

  test("--arch all: one row per ABI, - where absent", () => {
    const r = syscage("resolve", "--arch", "all", "open");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const rows = parseAllTable(r.stdout);
    assert.deepEqual([...rows.keys()], [...ABI_NAMES]);
    assert.equal(rows.get("x86_64"), "2");
    assert.equal(rows.get("x86"), "5");
    assert.equal(rows.get("x32"), String(0x40000000 + 2));
    assert.equal(rows.get("mips"), "4005");
    assert.equal(rows.get("aarch64"), "-"); // the generic table has only openat
    assert.equal(rows.get("riscv64"), "-");

    const byNr = parseAllTable(syscage("resolve", "--arch", "all", "0x101").stdout);
    assert.equal(byNr.get("x86_64"), "openat");
    assert.equal(byNr.get("aarch64"), "-");
  });

  test("--json, single ABI and all", () => {
    const one = syscage("resolve", "--json", "--arch", "x86_64", "openat");
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(JSON.parse(one.stdout), { arch: "x86_64", name: "openat", nr: 257 });

    const byNr = syscage("resolve", "--json", "--arch", "aarch64", "56");
    assert.deepEqual(JSON.parse(byNr.stdout), { arch: "aarch64", name: "openat", nr: 56 });

    const all = syscage("resolve", "--json", "--arch", "all", "ipc");
    assert.equal(all.code, 0, all.stderr);
    const rows = JSON.parse(all.stdout) as { arch: string; name: string; nr: number | null }[];
    assert.deepEqual(rows.map((x) => x.arch), [...ABI_NAMES]);
    assert.deepEqual(rows.find((x) => x.arch === "x86"), { arch: "x86", name: "ipc", nr: 117 });
    assert.deepEqual(rows.find((x) => x.arch === "x86_64"), { arch: "x86_64", name: "ipc", nr: null });
  });

  test("unknown name: exit 1, one line, close suggestions", () => {
    assertOneLineError(syscage("resolve", "--arch", "x86_64", "opnat"), '"opnat"', "x86_64", '"openat"', "Did you mean");
  });

  test("name that exists only on other ABIs says where", () => {
    assertOneLineError(syscage("resolve", "--arch", "x86_64", "socketcall"), '"socketcall"', "x86", "not on x86_64");
  });

  test("unknown arch: exit 1, one line", () => {
    assertOneLineError(syscage("resolve", "--arch", "x86-65", "read"), '"x86-65"', "x86_64");
  });

  test("unknown or malformed number: exit 1, one line", () => {
    assertOneLineError(syscage("resolve", "--arch", "x86_64", "9999"), "9999", "x86_64");
    assertOneLineError(syscage("resolve", "--arch", "x32", "257"), "257", "0x40000000", '"openat"');
    assertOneLineError(syscage("resolve", "--arch", "x86_64", "12ab"), '"12ab"');
  });

  test("--help documents the options", () => {
    const r = syscage("resolve", "--help");
    assert.equal(r.code, 0);
    for (const s of ["Usage: syscage resolve", "--arch", "--json", "all", "Examples"]) assert.ok(r.stdout.includes(s), s);
  });
});
