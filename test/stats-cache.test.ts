/**
 * `syscage stats` cache list (issue 7): per ABI, each syscall cacheable or
 * not, and why not — in policy terms with the policy, in program terms
 * without it; `--list` text and `cache.syscalls` in `--json`, with the
 * existing fields unchanged.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { programStats } from "../src/analyze/stats.js";
import { compile } from "../src/compile/index.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { cli } from "./helpers/cli.js";


describe("programStats: cache.syscalls", () => {
  const policy = nspawnPolicy({ abis: ["x86_64", "x86", "x32"] });
  const prog = compile(policy);
  const [x64, x86, x32] = programStats(prog.insns, prog.abis, policy);

  test("one entry per table syscall; cacheable entries are exactly `cacheable`", () => {
    for (const s of [x64!, x86!, x32!]) {
      assert.equal(s.cache.syscalls.length, s.cache.tableSize);
      assert.deepEqual(s.cache.syscalls.filter((e) => e.cacheable).map((e) => e.name), [...s.cache.cacheable]);
      for (const e of s.cache.syscalls) assert.equal(e.why === undefined, e.cacheable, e.name);
    }
  });

  test("why: the audit rule makes socket argument-dependent; a denied syscall is not ALLOW", () => {
    const by = new Map(x64!.cache.syscalls.map((e) => [e.name, e]));
    assert.equal(by.get("read")!.cacheable, true);
    assert.equal(by.get("socket")!.why, "argument-dependent (socket: nspawn audit rule: socket(AF_NETLINK, *, NETLINK_AUDIT))");
    assert.equal(by.get("settimeofday")!.why, "decision is ERRNO(EPERM), not ALLOW");
    assert.equal(by.get("rseq_slice_yield")!.why, "decision is ERRNO(ENOSYS), not ALLOW");
  });

  test("x32: nothing cacheable, with the bitmap reason", () => {
    assert.ok(x32!.cache.syscalls.every((e) => !e.cacheable && /beyond the native x86_64 bitmap/.test(e.why ?? "")));
  });

  test("without the policy: reasons from the program", () => {
    const [s] = programStats(prog.insns, ["x86_64"]);
    const by = new Map(s!.cache.syscalls.map((e) => [e.name, e]));
    assert.equal(by.get("settimeofday")!.why, "decision is ERRNO(1), not ALLOW");
    assert.match(by.get("socket")!.why!, /^argument-dependent/);
  });
});


describe("syscage stats --list / --json", () => {
  test("--list prints the lists after the table", () => {
    const r = cli("stats", "--list", "--arch", "x86_64,x32");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ABI +instructions/);
    assert.match(r.out, /^x86_64: \d+ cacheable, \d+ not cacheable$/m);
    assert.match(r.out, /^ +socket +argument-dependent \(socket: nspawn audit rule/m);
    assert.match(r.out, /^x32: 0 cacheable, \d+ not cacheable\n {2}not cacheable: all \d+: x32 numbers/m);
    // Without --list, no list.
    assert.doesNotMatch(cli("stats", "--arch", "x86_64").out, /not cacheable/);
  });

  test("--json keeps its fields and adds cache.syscalls", () => {
    const r = cli("stats", "--json", "--arch", "x86_64");
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { abis: { cache: { modelled: boolean; cacheable: number; tableSize: number; syscalls: { name: string; nr: number; cacheable: boolean; why?: string }[] } }[] };
    const c = j.abis[0]!.cache;
    assert.equal(typeof c.cacheable, "number");
    assert.equal(c.syscalls.length, c.tableSize);
    assert.equal(c.syscalls.filter((e) => e.cacheable).length, c.cacheable);
    const socket = c.syscalls.find((e) => e.name === "socket")!;
    assert.deepEqual([socket.nr, socket.cacheable], [41, false]);
    assert.match(socket.why!, /argument-dependent/);
    assert.equal(c.syscalls.find((e) => e.name === "read")!.why, undefined);
  });
});
