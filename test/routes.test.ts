/**
 * Closed routes (src/policy/routes.ts, src/run/terminal.ts): io_uring closed
 * where a denied or restricted call could be made through a ring, clone3 and
 * openat2 closed where clone's or openat's arguments are restricted, and the
 * terminal guarded under `syscage run`. The policy-level decisions, a
 * property test over random policies against the compiled program, the real
 * kernel through `syscage run` and `run()` (the io_uring probe gets through
 * with --routes=open: the hole is real), exports that carry the closing rules,
 * and TIOCSTI in a real pseudo-terminal.
 */
import { listener } from "./helpers/net.js";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { getAbi, syscallNumber, type AbiName } from "../src/abi/index.js";
import { IO_URING_OPS, IO_URING_SYSCALLS } from "../src/abi/io-uring.js";
import { terminalIoctls } from "../src/abi/terminal.js";
import { explain } from "../src/analyze/explain.js";
import { interpret } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { decide } from "../src/policy/evaluate.js";
import { definePolicy, type Action, type Policy, type PolicyInput } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { parseProfile } from "../src/policy/oci.js";
import { HIDDEN_ARGUMENT_ROUTES, withRoutes } from "../src/policy/routes.js";
import { planLaunch } from "../src/run/launch.js";
import { run } from "../src/run/spawn.js";
import { TERMINAL_GUARD_ORIGIN } from "../src/run/terminal.js";
import { CLI_NODE_ARGS, ROOT, cli } from "./helpers/cli.js";
import { hostHas, needHost } from "./helpers/host.js";
import { needOracle, sharedDataDir } from "./helpers/oracles.js";
import { setup } from "./helpers/run-probe.js";

const X86: AbiName[] = ["x86_64", "x86", "x32"];
const ERRNO_PERM = 0x00050001;
const ENOSYS_RET = 0x00050000 | 38;
const call = (abi: AbiName, name: string, args: bigint[] = []) => ({ arch: getAbi(abi).auditArch, nr: syscallNumber(abi, name)!, args });
const ret = (p: Policy, abi: AbiName, name: string, args: bigint[] = []): number => decide(p, call(abi, name, args)).ret >>> 0;
const permissive = (r: number): boolean => r === 0x7fff0000 || r === 0x7ffc0000;

describe("closed routes: the policy", () => {
  test("io_uring is closed where a call it can perform is denied, and keeps its decision where nothing is", () => {
    const allow = (rules: PolicyInput["rules"]) => definePolicy({ abis: X86, default: "ALLOW", rules });
    for (const [denied, op] of [["connect", "CONNECT"], ["socket", "SOCKET"], ["mkdirat", "MKDIRAT"], ["mkdir", "MKDIRAT"], ["unlinkat", "UNLINKAT"], ["openat", "OPENAT"], ["bind", "BIND"], ["ftruncate", "FTRUNCATE"]] as const) {
      const p = allow([{ syscall: denied, action: "ERRNO(EPERM)" }]);
      for (const abi of X86) for (const s of IO_URING_SYSCALLS) assert.equal(ret(p, abi, s), ERRNO_PERM, `${denied} denied: ${abi} ${s}`);
      const e = explain(p, { syscall: "io_uring_setup", abi: "x86_64" });
      assert.match(e.abis[0]!.summary, new RegExp(`${denied} is ERRNO\\(EPERM\\).*IORING_OP_${op}`), e.abis[0]!.summary);
      // Open routes: the rules as written.
      for (const s of IO_URING_SYSCALLS) assert.equal(ret({ ...p, routes: "open" }, "x86_64", s), 0x7fff0000);
    }
    // Restricted by argument is enough.
    const byArg = allow([{ syscall: "socket", action: "ERRNO(EACCES)", conditions: [{ arg: 0, op: "EQ", value: 2 }] }]);
    assert.equal(ret(byArg, "x86_64", "io_uring_enter"), ERRNO_PERM);
    // A deny no opcode can perform leaves io_uring as it was.
    const unrelated = allow([{ syscall: "getpid", action: "KILL_PROCESS" }, { syscall: "ptrace", action: "ERRNO(EPERM)" }]);
    for (const s of IO_URING_SYSCALLS) assert.equal(ret(unrelated, "x86_64", s), 0x7fff0000);
    // Where io_uring is denied anyway, nothing is added.
    const noRing = allow([{ syscall: "connect", action: "ERRNO(EPERM)" }, { syscall: IO_URING_SYSCALLS, action: "KILL_PROCESS" }]);
    assert.equal(withRoutes(noRing).rules.length, noRing.rules.length);
  });

  test("clone3 and openat2 get ENOSYS where clone's or openat's arguments are restricted", () => {
    const p = definePolicy({
      abis: X86,
      default: "ALLOW",
      rules: [
        { syscall: "clone", action: "ERRNO(EPERM)", conditions: [{ arg: 0, op: "MASKED_EQ", mask: 0x10000000, value: 0x10000000 }] },
        { syscall: "openat", action: "ERRNO(EACCES)", conditions: [{ arg: 2, op: "MASKED_EQ", mask: 0o100, value: 0o100 }] },
      ],
    });
    for (const abi of X86) {
      assert.equal(ret(p, abi, "clone3"), ENOSYS_RET, abi);
      assert.equal(ret(p, abi, "openat2"), ENOSYS_RET, abi);
    }
    assert.match(explain(p, { syscall: "clone3", abi: "x86_64" }).abis[0]!.summary, /clone is ERRNO\(EPERM\) by argument.*clone3 hides clone's flags/);
    assert.equal(ret({ ...p, routes: "open" }, "x86_64", "clone3"), 0x7fff0000);
    // Unrestricted clone leaves clone3 alone; so does a clone denied outright (a recorded threaded program allows clone3 only).
    assert.equal(ret(definePolicy({ abis: X86, default: "ALLOW", rules: [] }), "x86_64", "clone3"), 0x7fff0000);
    const recorded = definePolicy({ abis: X86, default: "ERRNO(EPERM)", rules: [{ syscall: ["clone3", "openat"], action: "ALLOW" }] });
    assert.equal(ret(recorded, "x86_64", "clone3"), 0x7fff0000);
  });

  test("the nspawn default closes io_uring (its audit rule restricts socket by argument); Docker's default needs no closing rule", (t) => {
    const p = nspawnPolicy({ abis: X86 });
    for (const abi of X86) for (const s of IO_URING_SYSCALLS) assert.equal(ret(p, abi, s), ERRNO_PERM, `${abi} ${s}`);
    assert.match(explain(p, { syscall: "io_uring_setup", abi: "x86_64" }).abis[0]!.summary, /closed route: socket is ERRNO\(EAFNOSUPPORT\) by argument \(nspawn audit rule/);
    for (const abi of X86) for (const s of IO_URING_SYSCALLS) assert.equal(ret({ ...p, routes: "open" }, abi, s), 0x7fff0000, `open: ${abi} ${s}`);
    const dir = sharedDataDir(t);
    if (dir === null) return;
    for (const f of ["docker-default.json", "podman-default.json"]) {
      const profile = parseProfile(readFileSync(join(dir, "profiles", f), "utf8"), f, { kernel: "6.18", hostArch: "x86_64" });
      const closed = withRoutes(profile.policy);
      const added = closed.rules.slice(profile.policy.rules.length);
      t.diagnostic(`${f}: ${added.length} closing rule(s): ${added.map((r) => r.syscall).join(" ") || "none"}`);
      for (const r of added) assert.ok([...IO_URING_SYSCALLS, "clone3", "openat2"].includes(r.syscall), r.syscall);
      for (const s of IO_URING_SYSCALLS) assert.ok(!permissive(ret(profile.policy, "x86_64", s)), `${f}: ${s} stays closed`);
    }
  });

  test("the opcode table: numbers in order, each syscall named exists on some ABI, versions increase with the opcode", () => {
    IO_URING_OPS.forEach((o, i) => assert.equal(o.opcode, i));
    const version = (v: string): number => Number(v.split(".")[0]) * 100 + Number(v.split(".")[1]);
    for (let i = 1; i < IO_URING_OPS.length; i++) assert.ok(version(IO_URING_OPS[i]!.since) >= version(IO_URING_OPS[i - 1]!.since) || IO_URING_OPS[i]!.name === "TIMEOUT_REMOVE", IO_URING_OPS[i]!.name);
    const everywhere = (["x86_64", "x86", "aarch64", "arm", "riscv64", "s390x", "ppc64le", "mips"] as AbiName[]);
    for (const o of IO_URING_OPS) for (const s of o.syscalls) assert.ok(everywhere.some((a) => syscallNumber(a, s) !== undefined), `${o.name}: ${s}`);
    for (const r of HIDDEN_ARGUMENT_ROUTES) assert.ok(syscallNumber("x86_64", r.call) !== undefined);
  });
});

// ---- property -----------------------------------------------------------------------------------

const POOL = ["connect", "socket", "sendto", "mkdirat", "mkdir", "openat", "open", "read", "write", "clone", "futex", "getpid", "ptrace", "io_uring_setup", "io_uring_enter", "io_uring_register", "clone3", "openat2"];
const PROP_ABIS: AbiName[][] = [["x86_64"], ["x86_64", "x86", "x32"], ["aarch64", "arm"], ["s390x"], ["riscv64"]];
const actionArb: fc.Arbitrary<Action> = fc.constantFrom<Action>(
  { kind: "ALLOW" },
  { kind: "LOG" },
  { kind: "ERRNO", errno: 1 },
  { kind: "ERRNO", errno: 13 },
  { kind: "KILL_PROCESS" },
  { kind: "TRAP", data: 0 },
  { kind: "NOTIFY" },
);
const policyArb: fc.Arbitrary<PolicyInput> = fc.record({
  abis: fc.constantFrom(...PROP_ABIS),
  default: actionArb,
  rules: fc.array(
    fc.record({
      syscall: fc.constantFrom(...POOL),
      action: actionArb,
      conditions: fc.oneof(fc.constant([]), fc.tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom(0n, 1n, 2n, 0x10000000n)).map(([arg, value]) => [{ arg, op: "EQ" as const, value }])),
    }),
    { maxLength: 8 },
  ),
});
const VECTORS: bigint[][] = [[0n, 0n, 0n], [1n, 1n, 1n], [2n, 2n, 2n], [0x10000000n, 0n, 0n], [0n, 1n, 2n], [2n, 0x10000000n, 1n]];

test("property: no call that io_uring, clone3 or openat2 could turn into a denied call is allowed by the compiled program, on every ABI", () => {
  let closings = 0;
  fc.assert(
    fc.property(policyArb, (input) => {
      const p = definePolicy(input);
      const prog = compile(p).insns;
      const run1 = (abi: AbiName, name: string, args: bigint[]): number | undefined => {
        const nr = syscallNumber(abi, name);
        if (nr === undefined) return undefined;
        return interpret(prog, { arch: getAbi(abi).auditArch, nr, args, instructionPointer: 0n }, getAbi(abi).endian).ret >>> 0;
      };
      for (const abi of p.abis) {
        const asWritten = (name: string, args: bigint[]): number | undefined => (syscallNumber(abi, name) === undefined ? undefined : ret({ ...p, routes: "open" }, abi, name, args));
        const restricted = (name: string): boolean => VECTORS.some((v) => { const r = asWritten(name, v); return r !== undefined && !permissive(r); });
        const ringPerformsRestricted = IO_URING_OPS.some((o) => o.syscalls.some(restricted));
        if (ringPerformsRestricted) {
          for (const s of IO_URING_SYSCALLS) for (const v of VECTORS) {
            const r = run1(abi, s, v);
            if (r !== undefined) {
              assert.ok(!permissive(r), `${abi} ${s}(${v}) allowed (0x${r.toString(16)}) while the ring could get around a restricted call; ${JSON.stringify(input, (_k, x) => (typeof x === "bigint" ? String(x) : x))}`);
              if (!permissive(asWritten(s, v)!)) continue;
              closings++;
            }
          }
        }
        // A hidden-argument route closes where the checked call is restricted by argument (some vector allowed, some not).
        const byArgument = (name: string): boolean => {
          const rs = VECTORS.map((v) => asWritten(name, v)).filter((r): r is number => r !== undefined);
          return rs.some(permissive) && rs.some((r) => !permissive(r));
        };
        for (const route of HIDDEN_ARGUMENT_ROUTES) {
          if (!route.hides.some(byArgument)) continue;
          for (const v of VECTORS) {
            const r = run1(abi, route.call, v);
            if (r !== undefined) assert.ok(!permissive(r), `${abi} ${route.call} allowed while ${route.hides.join("/")} is restricted`);
          }
        }
        // And the compiled program is decide() itself, closing rules and all.
        for (const name of POOL) for (const v of VECTORS) {
          const r = run1(abi, name, v);
          if (r !== undefined) assert.equal(r, ret(p, abi, name, v), `${abi} ${name}`);
        }
      }
    }),
    { seed: 0x40e7e5, numRuns: 400 },
  );
  assert.ok(closings > 100, `the sample closed io_uring only ${closings} times`);
});

// ---- exports --------------------------------------------------------------------------------

test("exports carry the closing rules: convert --to oci writes them, and the profile read back decides the same", () => {
  const dir = mkdtempSync(join(tmpdir(), "syscage-routes-"));
  const out = join(dir, "p.json");
  const r = cli("convert", "--system-call-filter=~@network-io", "--to", "oci", "-o", out);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(readFileSync(out, "utf8")) as { syscalls: { names: string[]; action: string; errnoRet?: number }[] };
  const ring = doc.syscalls.find((s) => s.names.includes("io_uring_setup") && s.action === "SCMP_ACT_ERRNO");
  assert.ok(ring !== undefined && ring.errnoRet === 1, JSON.stringify(doc.syscalls.filter((s) => s.names.some((n) => n.startsWith("io_uring")))));
  const d = cli("diff", out, "nspawn", "--b-system-call-filter=~@network-io");
  assert.equal(d.code, 0, `${d.out}\n${d.err}`);
  // With the routes open, the export says what nspawn says.
  const open = join(dir, "open.json");
  assert.equal(cli("convert", "--system-call-filter=~@network-io", "--routes=open", "--to", "oci", "-o", open).code, 0);
  const openDoc = JSON.parse(readFileSync(open, "utf8")) as { syscalls: { names: string[]; action: string }[] };
  assert.ok(!openDoc.syscalls.some((s) => s.names.includes("io_uring_setup") && s.action === "SCMP_ACT_ERRNO"));
  rmSync(dir, { recursive: true, force: true });
});

test("--routes: a bad value names the option and the choices; the JSON field is checked as strictly", () => {
  const r = cli("explain", "--routes=shut", "io_uring_setup");
  assert.equal(r.code, 1);
  assert.match(r.err, /--routes: "shut" is not one of closed, open/);
  const dir = mkdtempSync(join(tmpdir(), "syscage-routes-"));
  writeFileSync(join(dir, "p.json"), JSON.stringify({ routes: "opne", rules: [] }));
  const j = cli("compile", "--policy", join(dir, "p.json"));
  assert.equal(j.code, 1);
  assert.match(j.err, /routes/);
  writeFileSync(join(dir, "q.json"), JSON.stringify({ default: "ALLOW", routes: "open", rules: [{ syscalls: ["connect"], action: "ERRNO(EPERM)" }] }));
  const e = cli("explain", "--policy", join(dir, "q.json"), "io_uring_setup", "--json");
  assert.equal(e.code, 0, e.err);
  assert.match(e.out, /0x7fff0000|2147418112/);
  rmSync(dir, { recursive: true, force: true });
});

// ---- the kernel -----------------------------------------------------------------------------

const URING_SOURCE = fileURLToPath(new URL("./helpers/uring-probe.c", import.meta.url));
let uringProbe: string | undefined;
function uring(t: TestContext): string | null {
  if (setup(t) === null) return null;
  if (!needHost(t, "io_uring", "the policy-level and property tests above (decide and the compiled program)")) return null;
  if (uringProbe === undefined || !existsSync(uringProbe)) {
    const dir = mkdtempSync(join(tmpdir(), "syscage-uring-"));
    chmodSync(dir, 0o755);
    uringProbe = join(dir, "uring-probe");
    execFileSync("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", uringProbe, URING_SOURCE], { stdio: ["ignore", "ignore", "inherit"] });
  }
  return uringProbe;
}

/** `syscage run OPTS -- uring-probe STEPS` from the CLI, asynchronously (the listener runs in this process). */
function cliRun(args: readonly string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [...CLI_NODE_ARGS, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    c.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    c.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    c.on("close", (code) => resolve({ code, out, err }));
  });
}

describe("closed routes: the real kernel", () => {
  test("~@network-io: io_uring cannot create or connect a socket; with --routes=open it can (the hole is real)", async (t) => {
    const probe = uring(t);
    if (probe === null) return;
    const l = await listener();
    try {
      const steps = ["socket", "ring", "ring-socket", `ring-connect:${l.port}`];
      const closed = await cliRun(["run", "--system-call-filter=~@network-io", "--drop-capability=all", "--", probe, ...steps]);
      assert.equal(closed.code, 0, closed.err);
      assert.deepEqual(closed.out.trimEnd().split("\n"), ["err 1", "err 1", "skip", "skip"]);
      assert.equal(l.accepted(), 0);
      const open = await cliRun(["run", "--system-call-filter=~@network-io", "--drop-capability=all", "--routes=open", "--", probe, ...steps]);
      assert.deepEqual(open.out.trimEnd().split("\n"), ["err 1", "ok", "ok", "ok"], open.err);
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(l.accepted(), 1, "the listener saw the ring's connection");
    } finally {
      l.server.close();
    }
  });

  test("~mkdir through run(): io_uring cannot create a directory; with routes open it can", async (t) => {
    const probe = uring(t);
    if (probe === null) return;
    const dir = mkdtempSync(join(tmpdir(), "syscage-uring-dir-"));
    chmodSync(dir, 0o777);
    const target = join(dir, "made");
    const r = await run(probe, ["ring", `ring-mkdir:${target}`, `mkdir:${target}`], { systemCallFilter: ["~mkdir mkdirat"], capture: true });
    assert.deepEqual(r.stdout!.trimEnd().split("\n"), ["err 1", "skip", "err 1"], r.stderr);
    assert.equal(existsSync(target), false);
    const policy = { ...nspawnPolicy({ systemCallFilter: ["~mkdir mkdirat"] }), routes: "open" as const };
    const o = await run(probe, ["ring", `ring-mkdir:${target}`], { policy, capture: true });
    assert.deepEqual(o.stdout!.trimEnd().split("\n"), ["ok", "ok"], o.stderr);
    assert.equal(existsSync(target), true, "the ring made the directory the filter denies");
    rmSync(dir, { recursive: true, force: true });
  });

  test("node still starts and does file I/O under both (libuv falls back from io_uring)", async (t) => {
    if (setup(t) === null) return;
    const dir = mkdtempSync(join(tmpdir(), "syscage-uring-node-"));
    chmodSync(dir, 0o777);
    const file = join(dir, "f.txt");
    const script = `const fs=require("fs");fs.writeFileSync(${JSON.stringify(file)},"data");fs.promises.readFile(${JSON.stringify(file)},"utf8").then((t)=>console.log("read",t))`;
    for (const filter of ["~@network-io", "~mkdir"]) {
      // Output to a file: Node's own pipes are socketpairs, which ~@network-io closes too (issue #21).
      const outFile = join(dir, "out.txt");
      const fd = openSync(outFile, "w");
      const r = spawnSync(process.execPath, [...CLI_NODE_ARGS, "run", `--system-call-filter=${filter}`, "--", process.execPath, "-e", script], { cwd: ROOT, stdio: ["ignore", fd, fd] });
      closeSync(fd);
      assert.equal(r.status, 0, `${filter}: ${readFileSync(outFile, "utf8")}`);
      assert.equal(readFileSync(outFile, "utf8"), "read data\n", filter);
    }
    rmSync(dir, { recursive: true, force: true });
  });
});

// ---- the terminal -----------------------------------------------------------------------------

describe("the terminal guard of syscage run", () => {
  test("the launch plan denies TIOCSTI and TIOCLINUX with each ABI's numbers, masked to 32 bits; --routes=open drops it", () => {
    const plan = planLaunch({ abis: ["x86_64", "x86", "mips"] });
    const guard = plan.policy.rules.filter((r) => r.origin === TERMINAL_GUARD_ORIGIN);
    const values = guard.map((r) => Number(r.conditions[0]!.value)).sort((a, b) => a - b);
    const want = [...new Set(["x86_64", "mips"].flatMap((a) => Object.values(terminalIoctls(a as AbiName))))].sort((a, b) => a - b);
    assert.deepEqual(values, want);
    for (const r of guard) assert.deepEqual([r.syscall, r.conditions[0]!.op, r.conditions[0]!.mask], ["ioctl", "MASKED_EQ", 0xffff_ffffn]);
    // High bits in the register do not slip past it.
    const ins = plan.compiled.insns;
    const d = interpret(ins, { arch: getAbi("x86_64").auditArch, nr: syscallNumber("x86_64", "ioctl")!, args: [0n, 0xdead_0000_0000_5412n], instructionPointer: 0n }, "little");
    assert.equal(d.ret >>> 0, ERRNO_PERM);
    const other = interpret(ins, { arch: getAbi("x86_64").auditArch, nr: syscallNumber("x86_64", "ioctl")!, args: [0n, 0x5401n], instructionPointer: 0n }, "little");
    assert.equal(other.ret >>> 0, 0x7fff0000, "TCGETS stays allowed");
    assert.equal(planLaunch({ policy: { ...nspawnPolicy(), routes: "open" } }).policy.rules.some((r) => r.origin === TERMINAL_GUARD_ORIGIN), false);
    assert.equal(plan.newSession, true);
  });

  test("in a real pseudo-terminal a sandboxed TIOCSTI injects nothing into the parent; unconfined it would", (t) => {
    if (setup(t) === null) return;
    if (spawnSync("script", ["--version"]).status !== 0) {
      t.skip("script(1) from util-linux is missing");
      return;
    }
    if (!hostHas("legacy-tiocsti") && process.geteuid?.() !== 0) {
      t.skip("TIOCSTI is restricted by the kernel here (dev.tty.legacy_tiocsti = 0) and we are not root: nothing to inject with");
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), "syscage-tty-"));
    chmodSync(dir, 0o755);
    const injector = join(dir, "inject.py");
    writeFileSync(injector, 'import fcntl, termios\ntry:\n    [fcntl.ioctl(0, termios.TIOCSTI, c.encode()) for c in "INJECTED\\n"]\n    print("tiocsti ok")\nexcept OSError as e:\n    print("tiocsti err", e.errno)\n');
    const cliCmd = [process.execPath, ...CLI_NODE_ARGS].map((a) => `'${a}'`).join(" ");
    const inner = (prefix: string): string => `bash -c "${prefix} python3 ${injector}; read -t 2 line; echo GOT:\\$line"`;
    // script's stdin stays open (a sleeping writer): at end of input it would send EOF into the terminal.
    const ptyRun = (cmd: string): string =>
      spawnSync("bash", ["-c", `sleep 8 | script -qec '${cmd.replace(/'/g, "'\\''")}' /dev/null`], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 }).stdout.replace(/\r/g, "");
    const bare = ptyRun(inner(""));
    assert.match(bare, /tiocsti ok/);
    assert.match(bare, /GOT:INJECTED/, "unconfined, the parent reads the injected line (the test can fail)");
    const guarded = ptyRun(inner(`${cliCmd} run --`));
    assert.match(guarded, /tiocsti err 1/);
    assert.match(guarded, /GOT:$/m, `the parent read nothing: ${guarded}`);
    rmSync(dir, { recursive: true, force: true });
  });

  test("an interactive sh under syscage run still answers keystrokes and Ctrl-C in a pseudo-terminal", (t) => {
    if (setup(t) === null) return;
    if (!needOracle(t, "cc")) return;
    if (spawnSync("script", ["--version"]).status !== 0) {
      t.skip("script(1) from util-linux is missing");
      return;
    }
    // Keystrokes: a line, then sleep interrupted by Ctrl-C (\x03), then exit.
    const cliCmd = [process.execPath, ...CLI_NODE_ARGS].map((a) => `'${a}'`).join(" ");
    // Two seconds between keystrokes: the shell must be up (Node starts first) and sleep running before Ctrl-C.
    const feeder = `(sleep 2; printf 'echo AN""SWER\\n'; sleep 2; printf 'sleep 30\\n'; sleep 2; printf '\\003'; sleep 2; printf 'echo AFTER""INT\\n'; sleep 2; printf 'exit\\n') | script -qec "${cliCmd} run -- sh -i" /dev/null`;
    const t0 = Date.now();
    const r = spawnSync("bash", ["-c", feeder], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    const out = r.stdout.replace(/\r/g, "");
    assert.match(out, /ANSWER/, out);
    assert.match(out, /AFTERINT/, `Ctrl-C ended sleep and the shell went on: ${out}`);
    assert.ok(Date.now() - t0 < 30_000, "Ctrl-C interrupted sleep 30");
  });
});
