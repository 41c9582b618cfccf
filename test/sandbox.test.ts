/**
 * The sandbox around the filter (issue #14; src/run/sandbox.ts, native/sandbox.c)
 * on the real kernel, as root and as an unprivileged user: Landlock keeps
 * the command to its paths and ports (links, "..", bind mounts and io_uring
 * included), a timeout leaves no process behind, limits hold, only fds 0-2
 * reach the command, and an option the kernel's Landlock cannot enforce
 * runs nothing.
 */
import { listener } from "./helpers/net.js";
import assert from "node:assert/strict";
import { spawn as nodeSpawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import fc from "fast-check";
import { LANDLOCK_ABI_KNOWN } from "../src/abi/landlock.js";
import { LAUNCH_LIMITS, decodeLaunchDescription, encodeLaunchDescription } from "../src/run/launch-format.js";
import { planLaunch } from "../src/run/launch.js";
import { ACCESS_WRITE, planSandbox, parseDuration, parseLimits, parseSize, type SandboxPlan } from "../src/run/sandbox.js";
import { run, spawn, type RunOptions } from "../src/run/spawn.js";
import { SyscageError } from "../src/errors.js";
import { CLI_NODE_ARGS, ensureBuilt } from "./helpers/cli.js";
import { hostFacts } from "./helpers/host.js";
import { REQUIRE_ORACLES } from "./helpers/oracles.js";
import { NOBODY, REPO, needRoot, setup, unprivilegedHelper } from "./helpers/run-probe.js";

const BIN = join(REPO, "bin", "syscage");

function dir(prefix: string, mode = 0o755): string {
  const d = mkdtempSync(join(tmpdir(), `syscage-sandbox-${prefix}-`));
  chmodSync(d, mode);
  return d;
}

/** Skip loudly unless this kernel has Landlock ABI `abi` (a kernel capability, never installable). */
function needLandlock(t: TestContext, abi: number, what: string): boolean {
  const have = hostFacts().landlock.abi ?? 0;
  if (have >= abi) return true;
  const why = `needs Landlock ABI ${abi} for ${what}; this kernel has ${have === 0 ? "no Landlock" : `ABI ${have}`} (${hostFacts().landlock.detail}). The fail-closed tests below cover what syscage does on such a kernel`;
  process.stderr.write(`\n*** SKIPPED (missing kernel capability "landlock ABI ${abi}"): ${why} ***\n`);
  t.skip(why);
  return false;
}

type Who = "root" | "nobody";
const as = (who: Who): RunOptions => (who === "root" ? {} : { uid: NOBODY, gid: NOBODY, helper: unprivilegedHelper() });

/** A shell step that prints "NAME ok", "NAME EACCES" (Permission denied) or "NAME denied: MESSAGE". */
const TRY = `try() { name=$1; shift; if out=$("$@" 2>&1); then echo "$name ok"; else case "$out" in *"Permission denied"*) echo "$name EACCES";; *) echo "$name denied: $out";; esac; fi; }`;

/** The CLI: bin/syscage (the native front door, built dist) or the sources through Node. */
function cliSync(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; stdio?: ("pipe" | number)[] } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...CLI_NODE_ARGS, ...args], { cwd: options.cwd ?? REPO, encoding: "utf8", env: { ...process.env, SYSCAGE_NO_CACHE: "1", ...options.env }, stdio: options.stdio ?? ["pipe", "pipe", "pipe"] });
}

for (const who of ["root", "nobody"] as const) {
  describe(`Landlock paths, as ${who}`, () => {
    test("--allow-system --allow-write T: T works; secrets, other paths, outside binaries, links, .. and bind mounts do not", async (t) => {
      if (setup(t) === null || !needRoot(t) || !needLandlock(t, 3, "file-system rules")) return;
      const T = dir("t", 0o777);
      const O = dir("outside", 0o755);
      const H = dir("home", 0o755);
      mkdirSync(join(H, ".ssh"), { mode: 0o755 });
      // World-readable on purpose: only Landlock stands between the command and these.
      writeFileSync(join(O, "secret"), "SECRET\n", { mode: 0o644 });
      writeFileSync(join(H, ".ssh", "id_rsa"), "KEY\n", { mode: 0o644 });
      copyFileSync("/bin/true", join(O, "true"));
      chmodSync(join(O, "true"), 0o755);
      mkdirSync(join(T, "m"), { mode: 0o777 });
      const other = join(tmpdir(), `syscage-sandbox-other-${process.pid}-${who}`);
      const B = dir("baseline", 0o777);
      mkdirSync(join(B, "m"), { mode: 0o777 });
      const steps = (T: string, other: string): string => [
        TRY,
        `try write sh -c 'echo x > ${T}/f && cat ${T}/f'`,
        `try secret cat ${O}/secret`,
        `try ssh cat ${H}/.ssh/id_rsa`,
        `try other-tmp sh -c 'echo y > ${other}'`,
        `try exec-outside ${O}/true`,
        `try symlink sh -c 'ln -s ${O}/secret ${T}/sl && cat ${T}/sl'`,
        `try hardlink ln ${O}/secret ${T}/hl`,
        `try dotdot cat ${T}/../${O.split("/").pop()}/secret`,
        `try bind-mount unshare -m sh -c 'mount --bind ${O} ${T}/m && cat ${T}/m/secret'`,
      ].join("\n");
      // Without the sandbox every step but the mount (and for nobody, the mount anyway) works: the denials below are Landlock's.
      const open = await run("sh", ["-c", steps(B, `${other}-baseline`)], { ...as(who), capture: true });
      assert.match(open.stdout ?? "", /^secret ok$/m, open.stderr);
      assert.match(open.stdout ?? "", /^exec-outside ok$/m);
      assert.match(open.stdout ?? "", /^symlink ok$/m);
      const r = await run("sh", ["-c", steps(T, other)], { ...as(who), allowSystem: true, allowWrite: [T], capture: true });
      const lines = Object.fromEntries((r.stdout ?? "").trimEnd().split("\n").map((l) => [l.split(" ")[0], l.slice(l.indexOf(" ") + 1)]));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(lines.write, "ok");
      for (const step of ["secret", "ssh", "other-tmp", "exec-outside", "symlink", "dotdot"]) assert.equal(lines[step], "EACCES", `${step}: ${lines[step]}`);
      // Landlock refuses it with EXDEV; for nobody protected_hardlinks (EPERM) may come first.
      assert.match(lines.hardlink!, /^(denied: .*(cross-device|Operation not permitted)|EACCES)/, "a hard link to an outside file is refused");
      assert.ok(!existsSync(join(T, "hl")));
      assert.match(lines["bind-mount"]!, /^(denied|EACCES)/, "no mount can widen the tree");
      assert.ok(!existsSync(other));
    });

    test("--allow-tmp: a private TMPDIR the command can write, removed after the run", async (t) => {
      if (setup(t) === null || !needRoot(t) || !needLandlock(t, 3, "file-system rules")) return;
      const r = await run("sh", ["-c", 'echo "$TMPDIR"; echo data > "$TMPDIR/x" && cat "$TMPDIR/x"'], { ...as(who), allowSystem: true, allowTmp: true, capture: true });
      assert.equal(r.code, 0, r.stderr);
      const [tmp, data] = (r.stdout ?? "").trimEnd().split("\n");
      assert.match(tmp!, /\/syscage-tmp-[A-Za-z0-9]{6}$/);
      assert.equal(data, "data");
      assert.ok(!existsSync(tmp!), "removed after the run");
    });
  });
}

const CONNECT_PY = `
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", int(p))); print("ok")
    except OSError as e:
        print("err", e.errno)
`;

describe("Landlock TCP ports", () => {
  test("--allow-connect P: 127.0.0.1:P connects, another port gets EACCES, also through io_uring", async (t) => {
    if (setup(t) === null || !needRoot(t) || !needLandlock(t, 4, "TCP rules")) return;
    const a = await listener();
    const b = await listener();
    try {
      for (const who of ["root", "nobody"] as const) {
        const r = await run("python3", ["-c", CONNECT_PY, String(a.port), String(b.port)], { ...as(who), allowConnect: [a.port], capture: true });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual((r.stdout ?? "").trimEnd().split("\n"), ["ok", "err 13"], who);
      }
      // io_uring's IORING_OP_CONNECT (routes open, so the filter lets the ring through): Landlock checks the operation.
      const probe = uringProbe();
      const ring = await run(probe, ["ring", "ring-socket", `ring-connect:${b.port}`, "ring-socket", `ring-connect:${a.port}`], { allowConnect: [a.port], routes: "open", capture: true });
      assert.deepEqual((ring.stdout ?? "").trimEnd().split("\n"), ["ok", "ok", "err 13", "ok", "ok"], ring.stderr);
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(b.accepted(), 0, "nothing reached the port that was not allowed");
      // --deny-network: no TCP by the ring either (the ring is closed, and Landlock denies TCP).
      const none = await run(probe, ["ring", "ring-socket", `ring-connect:${b.port}`], { network: false, routes: "open", capture: true });
      assert.equal(none.code, 0, none.stderr);
      assert.ok(!(none.stdout ?? "").includes("ok\nok\nok"), none.stdout);
      assert.equal(b.accepted(), 0);
    } finally {
      a.server.close();
      b.server.close();
    }
  });

  test("--scope signal: no signal to a process outside the sandbox (ABI 6)", async (t) => {
    if (setup(t) === null || !needRoot(t) || !needLandlock(t, 6, "scopes")) return;
    const outside = nodeSpawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const r = await run("sh", ["-c", `kill -0 ${outside.pid} && echo reached || echo denied`], { scope: ["signal"], capture: true });
      assert.equal((r.stdout ?? "").trim(), "denied", r.stderr);
      const free = await run("sh", ["-c", `kill -0 ${outside.pid} && echo reached || echo denied`], { capture: true });
      assert.equal((free.stdout ?? "").trim(), "reached");
    } finally {
      outside.kill("SIGKILL");
    }
  });
});

let uring: string | undefined;
function uringProbe(): string {
  if (uring !== undefined && existsSync(uring)) return uring;
  const d = dir("uring");
  uring = join(d, "uring-probe");
  spawnSync("cc", ["-O2", "-Wall", "-o", uring, join(REPO, "test", "helpers", "uring-probe.c")], { stdio: "inherit" });
  return uring;
}

describe("fail closed: what the kernel's Landlock cannot enforce runs nothing", () => {
  test("--allow-connect on a kernel without Landlock network (ABI 3, simulated) exits 125; best-effort runs and says what was left out", (t) => {
    if (setup(t) === null || !needRoot(t)) return;
    const d = dir("failclosed", 0o777);
    const marker = join(d, "ran");
    const cmd = ["sh", "-c", `touch ${marker}`];
    const r = cliSync(["run", "--allow-connect", "80", "--", ...cmd], { env: { SYSCAGE_TEST_LANDLOCK_ABI: "3" } });
    assert.equal(r.status, 125, r.stderr);
    assert.match(r.stderr, /^syscage: the command was not run: the --allow-\*\/--scope options need Landlock ABI 4 \(TCP bind\/connect: ABI 4, Linux 6\.7\), and this kernel has ABI 3/);
    assert.ok(!existsSync(marker), "nothing ran");
    const none = cliSync(["run", "--allow-read", "/usr", "--", ...cmd], { env: { SYSCAGE_TEST_LANDLOCK_ABI: "0" } });
    assert.equal(none.status, 125);
    assert.match(none.stderr, /need Landlock ABI 3 \(truncate: ABI 3, Linux 6\.2\), and this kernel has no Landlock/);
    assert.ok(!existsSync(marker));
    // Through the native front door too (the simulated ABI turns the cache off; the helper still refuses).
    ensureBuilt();
    const native = spawnSync(BIN, ["run", "--allow-connect", "80", "--", ...cmd], { encoding: "utf8", env: { ...process.env, SYSCAGE_TEST_LANDLOCK_ABI: "3" } });
    assert.equal(native.status, 125, native.stderr);
    assert.ok(!existsSync(marker));
    const best = cliSync(["run", "--landlock=best-effort", "--allow-connect", "80", "--", ...cmd], { env: { SYSCAGE_TEST_LANDLOCK_ABI: "3" } });
    assert.equal(best.status, 0, best.stderr);
    assert.match(best.stderr, /warning: --landlock=best-effort: this kernel has Landlock ABI 3; not enforced: bind_tcp, connect_tcp/);
    assert.ok(existsSync(marker));
  });

  test("the helper refuses a description whose ABI is above the kernel's, even from the library", async (t) => {
    if (setup(t) === null || !needRoot(t)) return;
    const old = process.env.SYSCAGE_TEST_LANDLOCK_ABI;
    process.env.SYSCAGE_TEST_LANDLOCK_ABI = "5";
    try {
      await assert.rejects(run("/bin/true", [], { scope: ["signal"] }), (e: unknown) => e instanceof SyscageError && /need Landlock ABI 6 \(scopes/.test(e.message) && /this kernel has ABI 5/.test(e.message));
    } finally {
      if (old === undefined) delete process.env.SYSCAGE_TEST_LANDLOCK_ABI;
      else process.env.SYSCAGE_TEST_LANDLOCK_ABI = old;
    }
  });

  test("bad sandbox options are one clear error each, before anything runs", () => {
    const bad: [RunOptions, RegExp][] = [
      [{ allowConnect: [70000] }, /allowConnect: 70000 is not a TCP port/],
      [{ scope: ["signals" as "signal"] }, /unknown scope "signals". Did you mean "signal"\?/],
      [{ limits: { cpus: 3 } as never }, /unknown limit "cpus". Did you mean "cpu"\?/],
      [{ landlock: "strict" as "enforce" }, /landlock: expected "enforce" or "best-effort"/],
      [{ setEnv: ["NOEQUALS"] }, /--env NOEQUALS: expected KEY=VALUE/],
      [{ network: false, allowConnect: [443] }, /network: false .* cannot .*|could never be used/],
      [{ keepFds: [2] }, /keepFds: expected an integer 3\.\./],
      [{ timeout: 0 }, /timeout \(ms\): expected an integer 1\.\./],
    ];
    for (const [o, re] of bad) assert.throws(() => planLaunch(o), (e: unknown) => e instanceof SyscageError && re.test(e.message), JSON.stringify(o));
    const cli = cliSync(["run", "--limit", "as=lots", "--", "/bin/true"]);
    assert.equal(cli.status, 125);
    assert.equal(cli.stderr, 'syscage: the command was not run: --limit as: "lots" is not a size; use a number of bytes with an optional K, M, G or T (512M, 2G)\n');
  });
});

describe("timeout, limits, a clean start", () => {
  test("--timeout 1s -- sh -c 'sleep 100 & sleep 100': about 1 s, exit 124, no process left (also one that ignores SIGTERM or left the session)", (t) => {
    if (setup(t) === null) return;
    const tag = `${100 + (process.pid % 1000) / 1000}`;
    const t0 = Date.now();
    const r = cliSync(["run", "--timeout", "1s", "--kill-after", "500ms", "--", "sh", "-c", `sleep ${tag} & (trap '' TERM; sleep ${tag}) & setsid sleep ${tag} & sleep ${tag}`]);
    const elapsed = Date.now() - t0;
    assert.equal(r.status, 124, r.stderr);
    assert.match(r.stderr, /^syscage: sh timed out after 1s: every process of it was sent SIGTERM/m);
    assert.ok(elapsed < 6000, `returned after ${elapsed} ms`);
    const left = spawnSync("pgrep", ["-f", `sleep ${tag}`], { encoding: "utf8" });
    assert.equal(left.stdout.trim(), "", `processes left: ${left.stdout}`);
  });

  test("spawn()/run(): timeout (ms) kills the tree with exit 124; an AbortSignal stops the command", async (t) => {
    if (setup(t) === null) return;
    const r = await run("sh", ["-c", "sleep 60 & sleep 60"], { timeout: 300, capture: true });
    assert.equal(r.code, 124, r.stderr);
    const ac = new AbortController();
    const child = spawn("sleep", ["60"], { signal: ac.signal, stdio: "ignore" });
    const done = new Promise<string | null>((res) => child.on("close", (_c, sig) => res(sig)));
    child.on("error", () => undefined);
    setTimeout(() => ac.abort(), 200);
    assert.equal(await done, "SIGTERM");
  });

  test("--limit as stops an allocation; --limit nofile stops opening files; --nice", async (t) => {
    if (setup(t) === null) return;
    const alloc = await run("python3", ["-c", "b = bytearray(768 << 20); print('allocated')"], { limits: { as: 256n << 20n }, capture: true });
    assert.notEqual(alloc.code, 0);
    assert.match(alloc.stderr ?? "", /MemoryError/);
    const files = await run("python3", ["-c", "fs = [open('/dev/null') for _ in range(40)]"], { limits: { nofile: 16 }, capture: true });
    assert.match(files.stderr ?? "", /Too many open files/);
    const nice = await run("sh", ["-c", "cut -d' ' -f19 /proc/self/stat"], { nice: 7, capture: true });
    const base = Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[16]);
    assert.equal(Number((nice.stdout ?? "").trim()), Math.min(19, base + 7));
  });

  test("--limit nproc stops a fork bomb, unprivileged (RLIMIT_NPROC) and as root (a pids cgroup: the kernel exempts root from RLIMIT_NPROC)", async (t) => {
    if (setup(t) === null || !needRoot(t)) return;
    const bomb = "import os, time\nn = 0\nfor i in range(200):\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n    if pid == 0:\n        time.sleep(2)\n        os._exit(0)\n    n += 1\nprint('started', n)\n";
    for (const who of ["nobody", "root"] as const) {
      const r = await run("python3", ["-c", bomb], { ...as(who), limits: { nproc: 30 }, timeout: 10_000, capture: true });
      const started = Number(/started (\d+)/.exec(r.stdout ?? "")?.[1] ?? "NaN");
      if (who === "root" && r.code === null) assert.fail(String(r.signal));
      if (who === "root" && /no pids cgroup is available/.test(r.stderr ?? "")) {
        process.stderr.write(`\n*** SKIPPED (missing kernel capability "pids cgroup"): --limit nproc as root needs a pids cgroup; refused instead: ${r.stderr} ***\n`);
        continue;
      }
      assert.ok(started < 30, `${who}: ${started} processes started under nproc=30: ${r.stdout} ${r.stderr}`);
      assert.ok(started >= 5, `${who}: the command itself ran (${started} children)`);
    }
  });

  for (const reader of ["node", "native"] as const) {
    test(`only fds 0-2 reach the command unless --keep-fd (${reader === "node" ? "the CLI from the sources" : "bin/syscage, through the cache"})`, (t) => {
      if (setup(t) === null) return;
      if (reader === "native") ensureBuilt();
      const fd3 = openSync("/etc/hostname", "r");
      const fd4 = openSync("/etc/hostname", "r");
      try {
        const cache = dir("cache", 0o700);
        const go = (extra: string[]): string => {
          // The fds of the command itself (python lists them; the one its listing opens points into /proc).
          const list = "import os\nfds = sorted(int(f) for f in os.listdir('/proc/self/fd'))\nprint(' '.join(str(f) for f in fds if os.path.lexists('/proc/self/fd/%d' % f)))";
          const args = ["run", ...extra, "--", "python3", "-c", list];
          const stdio: ("pipe" | number)[] = ["pipe", "pipe", "pipe", fd3, fd4];
          const r =
            reader === "node"
              ? cliSync(args, { stdio })
              : spawnSync(BIN, args, { encoding: "utf8", stdio, env: { ...process.env, XDG_CACHE_HOME: cache } });
          assert.equal(r.status, 0, r.stderr);
          return r.stdout.trim();
        };
        assert.equal(go([]), "0 1 2");
        assert.equal(go(["--keep-fd", "4"]), "0 1 2 4");
        if (reader === "native") assert.equal(go([]), "0 1 2", "and on a cache hit");
      } finally {
        closeSync(fd3);
        closeSync(fd4);
      }
    });
  }

  test("--clear-env --env, --cwd", (t) => {
    if (setup(t) === null) return;
    const env = cliSync(["run", "--clear-env", "--env", "A=1", "--env", "B=two words", "--", "/usr/bin/env"]);
    assert.equal(env.status, 0, env.stderr);
    assert.equal(env.stdout, "A=1\nB=two words\n");
    const cwd = cliSync(["run", "--cwd", "/usr/share", "--", "pwd"]);
    assert.equal(cwd.stdout, "/usr/share\n");
    const missing = cliSync(["run", "--cwd", "/no/such/dir", "--", "pwd"]);
    assert.equal(missing.status, 125);
    assert.match(missing.stderr, /--cwd \/no\/such\/dir: No such file or directory/);
  });
});

describe("--preset node and --explain-sandbox", () => {
  test("node starts and does file I/O under --preset node, and cannot read or write outside", async (t) => {
    if (setup(t) === null || !needLandlock(t, 3, "file-system rules")) return;
    const T = dir("node", 0o777);
    writeFileSync(join(dir("node-outside"), "x"), "x");
    const script = `const fs = require("fs");
fs.writeFileSync(${JSON.stringify(join(T, "f"))}, "hello");
console.log(fs.readFileSync(${JSON.stringify(join(T, "f"))}, "utf8"));
fs.promises.readFile(${JSON.stringify(join(T, "f"))}, "utf8").then((s) => console.log("async", s));
try { fs.readFileSync("/etc/shadow"); console.log("read /etc/shadow"); } catch (e) { console.log(e.code); }
try { fs.readdirSync(${JSON.stringify(tmpdir())}); console.log("listed the temp dir"); } catch (e) { console.log(e.code); }`;
    const r = await run(process.execPath, ["-e", script], { preset: "node", allowWrite: [T], capture: true });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((r.stdout ?? "").trimEnd().split("\n"), ["hello", "EACCES", "EACCES", "async hello"]);
  });

  test("--explain-sandbox prints the filter, the Landlock rules by path and port, limits, timeout and fds", () => {
    const r = cliSync(["run", "--explain-sandbox", "--allow-system", "--allow-write", "/tmp", "--allow-connect", "443", "--limit", "as=1G,nofile=64", "--timeout", "30s", "--keep-fd", "5", "--", "/bin/true"]);
    assert.equal(r.status, 0, r.stderr);
    for (const line of [
      /^program: +\d+ instructions/m,
      /^landlock: +needs ABI 4 \(TCP bind\/connect: ABI 4, Linux 6\.7\); handles fs: execute,.*ioctl_dev; net: bind_tcp,connect_tcp; scopes: none$/m,
      /^ {2}path: +read\+write \/tmp {2}\[--allow-write\]$/m,
      /^ {2}path: +read\+exec \/usr \(if present\) {2}\[--allow-system\]$/m,
      /^ {2}tcp port: +connect_tcp 443$/m,
      /^limits: +nofile=64, as=1073741824$/m,
      /^timeout: +30s, then SIGTERM to every process of the command, SIGKILL 2s later \(exit 124\)$/m,
      /^fds: +0-2, 5 \(every other fd is closed\)$/m,
    ])
      assert.match(r.stdout, line);
  });
});

describe("the launch description's sandbox part", () => {
  test("property: decode(encode(plan)) gives the plan back; the helper's limits are the TypeScript side's", () => {
    const paths = fc.array(fc.string({ minLength: 1, maxLength: 30 }).map((s) => `/${s.replace(/\0/g, "")}`), { maxLength: 5 });
    fc.assert(
      fc.property(paths, fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 4 }), fc.boolean(), fc.integer({ min: 0, max: 100_000 }), fc.array(fc.integer({ min: 3, max: 999 }), { maxLength: 4 }), (allowWrite, allowConnect, clearEnv, timeout, keepFds) => {
        const plan: SandboxPlan = planSandbox({ allowWrite, allowConnect, clearEnv, ...(timeout > 0 ? { timeout } : {}), keepFds, setEnv: ["K=v"], limits: { as: 123n << 20n, cpu: 5 } });
        const d = decodeLaunchDescription(encodeLaunchDescription({ flags: 1, options: 8, retained: 5n }, [new Uint8Array(8)], plan)).sandbox;
        assert.deepEqual({ ...d, landlock: d.landlock && { ...d.landlock, paths: d.landlock.paths.map((p) => ({ ...p, from: "" })) }, rlimits: d.rlimits.map((x) => [x.resource, x.soft, x.hard]) }, { ...plan, landlock: plan.landlock && { ...plan.landlock, paths: plan.landlock.paths.map((p) => ({ ...p, from: "" })) }, rlimits: plan.rlimits.map((x) => [x.resource, x.soft, x.hard]) });
      }),
      { numRuns: 200 },
    );
    const header = readFileSync(join(REPO, "native", "syscage-exec.h"), "utf8");
    const c = (name: string): number => Number(new RegExp(`#define ${name} (\\d+)u?`).exec(header)?.[1]);
    assert.equal(c("SB_LL_ABIS"), LANDLOCK_ABI_KNOWN + 1);
    assert.deepEqual([c("SB_MAX_PATHS"), c("SB_MAX_PORTS"), c("SB_MAX_RLIMITS"), c("SB_MAX_FDS"), c("SB_MAX_ENV"), c("SB_MAX_TEXT"), c("LAUNCH_VERSION")], [LAUNCH_LIMITS.paths, LAUNCH_LIMITS.ports, LAUNCH_LIMITS.rlimits, LAUNCH_LIMITS.fds, LAUNCH_LIMITS.env, LAUNCH_LIMITS.text, 2]);
    const helper = readFileSync(join(REPO, "native", "syscage-exec.c"), "utf8");
    const h = (name: string): number => Number(new RegExp(`#define ${name} (\\d+)u?`).exec(helper)?.[1]);
    assert.deepEqual([h("MAX_PROGRAMS"), h("MAX_ARG_ENTRIES")], [LAUNCH_LIMITS.programs, LAUNCH_LIMITS.argEntries]);
    assert.match(helper, new RegExp(`count == 0 \\|\\| count > ${LAUNCH_LIMITS.instructions}\\)`), "the helper's instruction limit is the TypeScript side's");
    assert.equal(planSandbox({ allowTmp: true }).landlock?.tmpAccess, ACCESS_WRITE);
  });

  test("sizes, durations and limits parse exactly", () => {
    assert.equal(parseSize("512M", "x"), 512n << 20n);
    assert.equal(parseSize("2G", "x"), 2n << 30n);
    assert.equal(parseSize("18446744073709551615", "x"), (1n << 64n) - 1n);
    assert.throws(() => parseSize("18446744073709551616", "x"), /too large/);
    assert.equal(parseDuration("1.5s", "x"), 1500);
    assert.equal(parseDuration("200ms", "x"), 200);
    assert.equal(parseDuration("2m", "x"), 120_000);
    assert.deepEqual(parseLimits(["cpu=3,as=1G", "nofile=10"]), { cpu: 3, as: 1n << 30n, nofile: 10 });
  });

  test("the cache keys a relative --allow-write by the working directory", (t) => {
    if (setup(t) === null || !needLandlock(t, 3, "file-system rules")) return;
    ensureBuilt();
    const cache = dir("cache-rel", 0o700);
    const [a, b] = [dir("rel-a", 0o777), dir("rel-b", 0o777)];
    const go = (cwd: string): { status: number | null; debug: string } => {
      const r = spawnSync(BIN, ["run", "--allow-system", "--allow-write", ".", "--", "sh", "-c", "echo x > f"], { cwd, encoding: "utf8", env: { ...process.env, XDG_CACHE_HOME: cache, SYSCAGE_CACHE_DEBUG: "1" } });
      return { status: r.status, debug: r.stderr };
    };
    assert.match(go(a).debug, /miss \(no entry\)/);
    assert.match(go(a).debug, /hit \(native\)/);
    const other = go(b);
    assert.match(other.debug, /miss \(no entry\)/, "another directory is another key");
    assert.equal(other.status, 0, other.debug);
    assert.ok(existsSync(join(a, "f")) && existsSync(join(b, "f")), "each run could write its own directory");
  });
});

if (REQUIRE_ORACLES && process.platform !== "linux") throw new Error("the sandbox tests need Linux");
