/**
 * `syscage run` end to end: the README quick start, exit statuses (pass-through,
 * 128+N, SIGSYS note, 125/126/127), stdio and signal forwarding, --dry-run,
 * fail-closed cases proven by a command that would create a marker file, and
 * an unprivileged run through setpriv.
 */
import assert from "node:assert/strict";
import { spawn as nodeSpawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseCapability } from "../src/abi/capabilities.js";
import { encodeProgram } from "../src/bpf/codec.js";
import { BPF_MAXINSNS } from "../src/bpf/insn.js";
import { compile } from "../src/compile/index.js";
import { definePolicy } from "../src/policy/model.js";
import { CLI_NODE_ARGS as NODE_ARGS, spawnCli } from "./helpers/cli.js";
import { ERRNO, NOBODY, NR, REBOOT_WRONG_MAGIC, REPO, checkoutReadableBy, hostBounding, needRoot, parseStatus, setup } from "./helpers/run-probe.js";

function syscage(args: readonly string[], input?: string): SpawnSyncReturns<string> {
  return spawnCli(args, { cwd: REPO, input: input ?? "" });
}

function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), "syscage-run-cli-"));
  chmodSync(d, 0o755);
  return d;
}

/** A raw program file: `ret ALLOW` repeated `n` times (valid for n ≤ 4096). */
function allowProgram(n: number): Uint8Array {
  const one = encodeProgram([{ code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }]);
  const out = new Uint8Array(one.length * n);
  for (let i = 0; i < n; i++) out.set(one, i * one.length);
  return out;
}

describe("syscage run", () => {
  test("README quick start: syscage run -- /bin/echo hello", (t) => {
    if (setup(t) === null) return;
    const r = syscage(["run", "--", "/bin/echo", "hello"]);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "hello\n");
    assert.equal(r.status, 0);
    // Without "--" too, options after the command belong to the command.
    const ls = syscage(["run", "ls", "-d", "/"]);
    assert.equal(ls.stdout, "/\n");
    assert.equal(ls.status, 0);
  });

  test("stdin and stdout pass through", (t) => {
    if (setup(t) === null) return;
    const r = syscage(["run", "--", "cat"], "piped input\n");
    assert.equal(r.stdout, "piped input\n");
    assert.equal(r.status, 0);
  });

  test("exit status: the command's, 128+N for a signal, 126, 127", (t) => {
    if (setup(t) === null) return;
    assert.equal(syscage(["run", "--", "sh", "-c", "exit 7"]).status, 7);
    const term = syscage(["run", "--", "sh", "-c", "kill -TERM $$"]);
    assert.equal(term.status, 128 + 15);
    assert.equal(term.stderr, "");
    const nf = syscage(["run", "--", "/nonexistent-dir/no-such-command"]);
    assert.equal(nf.status, 127);
    assert.match(nf.stderr, /^syscage: \/nonexistent-dir\/no-such-command: No such file or directory\n$/);
    const d = workDir();
    writeFileSync(join(d, "script"), "#!/bin/sh\n", { mode: 0o644 });
    const ne = syscage(["run", "--", join(d, "script")]);
    assert.equal(ne.status, 126);
    assert.match(ne.stderr, /Permission denied/);
  });

  test("a command killed by the filter: 128+SIGSYS and a one-line note", (t) => {
    const probe = setup(t);
    if (probe === null) return;
    const d = workDir();
    const policy = join(d, "kill-getppid.json");
    writeFileSync(policy, JSON.stringify({ default: "ALLOW", rules: [{ syscall: "getppid", action: "KILL_PROCESS" }] }));
    const r = syscage(["run", "--policy", policy, "--", probe, `direct:native:${NR.getpid}`, `direct:native:${NR.getppid}`, "direct:status"]);
    assert.equal(r.status, 128 + 31, r.stderr);
    assert.equal(r.stdout, "ok\n", "killed at getppid, before the next probe");
    assert.equal(r.stderr, `syscage: ${probe} was killed by the syscall filter (SIGSYS)\n`);
  });

  test("--dry-run prints ABIs, capabilities, rule counts and program size, and runs nothing", (t) => {
    if (setup(t) === null) return;
    const d = workDir();
    const m = join(d, "ran");
    const r = syscage(["run", "--dry-run", "--drop-capability=CAP_SYS_BOOT", "--", "touch", m]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ABIs: +x86_64, x86, x32$/m);
    assert.match(r.stdout, /^rules: +\d+ \(\d+ ERRNO, \d+ ALLOW\)$/m);
    assert.match(r.stdout, /^program: +\d+ instructions \(\d+ bytes\)$/m);
    assert.match(r.stdout, /^capabilities: .*CAP_SYS_ADMIN/m);
    assert.doesNotMatch(r.stdout, /CAP_SYS_BOOT/);
    assert.match(r.stdout, /^flags: +none$/m);
    // The closed routes and the terminal guard, and how --routes=open / --deny-network change them.
    assert.match(r.stdout, /^routes: +closed: io_uring_setup, io_uring_enter, io_uring_register$/m);
    assert.match(r.stdout, /^terminal: +TIOCSTI\/TIOCLINUX denied/m);
    const open = syscage(["run", "--dry-run", "--routes=open", "--deny-network", "--", "touch", m]);
    assert.match(open.stdout, /^routes: +open/m);
    assert.match(open.stdout, /^terminal: +as the caller's/m);
    assert.match(open.stdout, /^network: +host; no sockets but AF_UNIX/m);
    assert.equal(existsSync(m), false);
  });

  test("--drop-capability=CAP_SYS_BOOT from the command line", (t) => {
    const probe = setup(t);
    if (probe === null || !needRoot(t)) return;
    const r = syscage(["run", "--drop-capability=CAP_SYS_BOOT", "--", probe, `native:${NR.reboot}${REBOOT_WRONG_MAGIC}`, "status"]);
    assert.equal(r.status, 0, r.stderr);
    const [reboot, status] = r.stdout.trimEnd().split("\n");
    assert.equal(reboot, `err ${ERRNO.EPERM}`);
    const s = parseStatus(status!);
    assert.equal(s.capBnd & (1n << BigInt(parseCapability("CAP_SYS_BOOT"))), 0n);
    assert.equal(s.noNewPrivs, "1");
    assert.equal(s.seccomp, "2");
    const kept = syscage(["run", "--", probe, `native:${NR.reboot}${REBOOT_WRONG_MAGIC}`]);
    assert.equal(kept.stdout, `err ${ERRNO.EINVAL}\n`);
  });

  test("SIGTERM and SIGHUP sent to syscage reach the command", async (t) => {
    if (setup(t) === null) return;
    for (const [sig, n] of [["SIGTERM", 15], ["SIGHUP", 1]] as const) {
      const child = nodeSpawn(process.execPath, [...NODE_ARGS, "run", "--", "sh", "-c", "echo ready; exec sleep 30"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
      await new Promise<void>((res) => child.stdout!.once("data", () => res()));
      const started = Date.now();
      child.kill(sig);
      const code = await new Promise<number | null>((res) => child.on("close", (c: number | null) => res(c)));
      assert.equal(code, 128 + n, `${sig}: the command (sleep) died of the forwarded signal`);
      assert.ok(Date.now() - started < 10_000);
    }
  });

  test("as an unprivileged user (setpriv): no_new_privs and the filter apply", (t) => {
    const probe = setup(t);
    if (probe === null || !needRoot(t)) return;
    if (spawnSync("setpriv", ["--version"]).status !== 0) {
      if (process.env.SYSCAGE_REQUIRE_ORACLES === "1") throw new Error("setpriv (util-linux) is required");
      t.skip("setpriv missing");
      return;
    }
    if (!checkoutReadableBy(NOBODY)) {
      // Not an oracle: the checkout's location. The library-level unprivileged tests still run.
      process.stderr.write(`\n*** SKIPPED: the checkout ${REPO} is not readable by uid ${NOBODY}; running the CLI as nobody needs a world-readable checkout ***\n`);
      t.skip("checkout not readable by nobody");
      return;
    }
    const r = spawnSync(
      "setpriv",
      [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", process.execPath, ...NODE_ARGS, "run", "--", probe, "status", `native:${NR.ioperm}:0,0,0`, `native:${NR.reboot}${REBOOT_WRONG_MAGIC}`],
      { encoding: "utf8", cwd: REPO, env: { ...process.env, HOME: "/tmp" } },
    );
    assert.equal(r.status, 0, r.stderr);
    const [status, ioperm, reboot] = r.stdout.trimEnd().split("\n");
    const s = parseStatus(status!);
    assert.equal(s.noNewPrivs, "1");
    assert.equal(s.seccomp, "2");
    assert.equal(s.capEff, 0n);
    assert.equal(s.capBnd, hostBounding(), "the bounding set cannot be changed without privilege");
    assert.equal(ioperm, `err ${ERRNO.EPERM}`);
    assert.equal(reboot, `err ${ERRNO.EPERM}`);
    const net = spawnSync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", process.execPath, ...NODE_ARGS, "run", "--private-network", "--", "true"], {
      encoding: "utf8",
      cwd: REPO,
      env: { ...process.env, HOME: "/tmp" },
    });
    assert.equal(net.status, 125);
    assert.match(net.stderr, /^syscage: the command was not run: --private-network: cannot create a network namespace: .*needs root/m);
  });
});

describe("syscage run fails closed (exit 125, the command never runs)", () => {
  const cases: [string, (d: string) => string[], RegExp][] = [
    ["a truncated --add-filter program", (d) => (writeFileSync(join(d, "f.bpf"), new Uint8Array(13)), ["--add-filter", join(d, "f.bpf")]), /not a multiple of 8/],
    ["an empty --add-filter program", (d) => (writeFileSync(join(d, "f.bpf"), new Uint8Array(0)), ["--add-filter", join(d, "f.bpf")]), /empty/],
    ["an invalid opcode", (d) => (writeFileSync(join(d, "f.bpf"), new Uint8Array([0xff, 0xff, 0, 0, 0, 0, 0, 0])), ["--add-filter", join(d, "f.bpf")]), /kernel would reject/],
    [`a program over ${BPF_MAXINSNS} instructions`, (d) => (writeFileSync(join(d, "f.bpf"), allowProgram(BPF_MAXINSNS + 1)), ["--add-filter", join(d, "f.bpf")]), /at most 4096/],
    ["stacked filters over the kernel's 32768-instruction path limit", (d) => {
      writeFileSync(join(d, "f.bpf"), allowProgram(BPF_MAXINSNS));
      return Array.from({ length: 8 }, () => ["--add-filter", join(d, "f.bpf")]).flat();
    }, /32768/],
    ["a missing --add-filter file", (d) => ["--add-filter", join(d, "nope.bpf")], /nope\.bpf/],
    ["a flag the kernel refuses", (d) => (writeFileSync(join(d, "p.json"), JSON.stringify({ default: "ALLOW", flags: ["WAIT_KILLABLE_RECV"] })), ["--policy", join(d, "p.json")]), /cannot load seccomp filter 1 of 1 \(flags 0x20\): Invalid argument/],
    ["an unknown syscall in the policy options", () => ["--system-call-filter=~nosuchcall"], /unknown syscall "nosuchcall"/],
    ["an unknown option", () => ["--no-such-option"], /unknown option/],
  ];
  for (const [what, args, message] of cases) {
    test(what, (t) => {
      if (setup(t) === null) return;
      const d = workDir();
      const m = join(d, "ran");
      const r = syscage(["run", ...args(d), "--", "touch", m]);
      assert.equal(r.status, 125, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(existsSync(m), false, "the command must not run");
    });
  }

  test("a valid stack under the limit does run (the limit test above is not vacuous)", (t) => {
    if (setup(t) === null) return;
    const d = workDir();
    const m = join(d, "ran");
    writeFileSync(join(d, "f.bpf"), allowProgram(BPF_MAXINSNS));
    const r = syscage(["run", "--add-filter", join(d, "f.bpf"), "--add-filter", join(d, "f.bpf"), "--", "touch", m]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(m), true);
  });

  test("an added filter stacks: its denial holds under the policy's allow", (t) => {
    const probe = setup(t);
    if (probe === null) return;
    const d = workDir();
    // A policy program of its own that denies getpid with EXDEV, stacked under the nspawn default.
    const deny = compile(definePolicy({ default: "ALLOW", rules: [{ syscall: "getpid", action: "ERRNO(EXDEV)" }] }));
    writeFileSync(join(d, "deny.bpf"), encodeProgram(deny.insns));
    const r = syscage(["run", "--add-filter", join(d, "deny.bpf"), "--", probe, `native:${NR.getpid}`, `native:${NR.getppid}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `err ${ERRNO.EXDEV}\nok\n`);
  });
});
