/**
 * `syscage resolve`, run as a user runs it: a child process from the
 * repository root, checking stdout, stderr and the exit code. Expected
 * numbers are kernel facts or come from libseccomp's scmp_sys_resolver.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { ABI_NAMES } from "../src/abi/arch.js";
import { assertOneLineError, cli as syscage } from "./helpers/cli.js";
import { needOracle } from "./helpers/oracles.js";

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
    assert.deepEqual(r, { code: 0, out: "257\n", err: "" });
  });

  test("number → name, decimal and hex, offsets included", () => {
    assert.deepEqual(syscage("resolve", "--arch", "aarch64", "56"), { code: 0, out: "openat\n", err: "" });
    assert.deepEqual(syscage("resolve", "--arch", "x32", "0x40000101"), { code: 0, out: "openat\n", err: "" });
    assert.deepEqual(syscage("resolve", "-a", "mips", "4003"), { code: 0, out: "read\n", err: "" });
  });

  test("ABI spellings from uname / Go are accepted", () => {
    assert.deepEqual(syscage("resolve", "--arch", "arm64", "openat"), { code: 0, out: "56\n", err: "" });
  });

  test("default arch is the host's native ABI (same answer as scmp_sys_resolver without -a)", (t) => {
    if (!needOracle(t, "scmp_sys_resolver")) return;
    const oracle = spawnSync("scmp_sys_resolver", ["openat"], { encoding: "utf8" });
    assert.equal(oracle.status, 0);
    const r = syscage("resolve", "openat");
    assert.deepEqual(r, { code: 0, out: oracle.stdout.trim() + "\n", err: "" });
  });

  test("--arch all: one row per ABI, - where absent", () => {
    const r = syscage("resolve", "--arch", "all", "open");
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    const rows = parseAllTable(r.out);
    assert.deepEqual([...rows.keys()], [...ABI_NAMES]);
    assert.equal(rows.get("x86_64"), "2");
    assert.equal(rows.get("x86"), "5");
    assert.equal(rows.get("x32"), String(0x40000000 + 2));
    assert.equal(rows.get("mips"), "4005");
    assert.equal(rows.get("aarch64"), "-"); // the generic table has only openat
    assert.equal(rows.get("riscv64"), "-");

    const byNr = parseAllTable(syscage("resolve", "--arch", "all", "0x101").out);
    assert.equal(byNr.get("x86_64"), "openat");
    assert.equal(byNr.get("aarch64"), "-");
  });

  test("--json, single ABI and all", () => {
    const one = syscage("resolve", "--json", "--arch", "x86_64", "openat");
    assert.equal(one.code, 0, one.err);
    assert.deepEqual(JSON.parse(one.out), { arch: "x86_64", name: "openat", nr: 257 });

    const byNr = syscage("resolve", "--json", "--arch", "aarch64", "56");
    assert.deepEqual(JSON.parse(byNr.out), { arch: "aarch64", name: "openat", nr: 56 });

    const all = syscage("resolve", "--json", "--arch", "all", "ipc");
    assert.equal(all.code, 0, all.err);
    const rows = JSON.parse(all.out) as { arch: string; name: string; nr: number | null }[];
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
    for (const s of ["Usage: syscage resolve", "--arch", "--json", "all", "Examples"]) assert.ok(r.out.includes(s), s);
  });
});
