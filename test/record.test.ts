/**
 * `syscage record` on the real kernel (as root): recording real programs,
 * replaying them under the generated policy with `syscage run`, removing one
 * recorded syscall to show the policy is tight, complain mode, argument
 * rules, widening, merging, other output formats, and the bad-input cases
 * (nothing written). Plus the pure generation functions.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { getAbi } from "../src/abi/arch.js";
import { syscallNumber } from "../src/abi/tables.js";
import { expandItem } from "../src/policy/groups.js";
import { parsePolicyJson } from "../src/policy/json.js";
import { decide } from "../src/policy/evaluate.js";
import { formatPolicyJson } from "../src/export/policy-json.js";
import { homeGroup, policyFromRecording, record, type RecordedCall } from "../src/record/index.js";
import { spawnCli } from "./helpers/cli.js";
import { REPO, needRoot, setup } from "./helpers/run-probe.js";

const PYTHON = "/usr/bin/python3";

function syscage(args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnCli(args, { cwd: REPO, input: "", env: { ...process.env, ...env }, timeout: 60_000 });
}

function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), "syscage-record-"));
  chmodSync(d, 0o755);
  return d;
}

const THREADS_C = `
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
/* Only the threads call uname(2): recording must follow every thread.
   Each thread then sleeps, so that main is still waiting in pthread_join
   (futex) when it ends: without the sleep a thread may finish before main
   joins it, futex is then never called, and a replay that does wait fails. */
static char result[4][64];
static void *work(void *p) {
  int i = (int)(long)p;
  struct utsname u;
  if (syscall(SYS_uname, &u) == 0) snprintf(result[i], sizeof result[i], "thread %d: %s", i, u.sysname);
  else snprintf(result[i], sizeof result[i], "thread %d: error", i);
  usleep(200000);
  return NULL;
}
int main(void) {
  pthread_t t[4];
  for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, work, (void *)i);
  int bad = 0;
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    printf("%s\\n", result[i]);
    bad |= strstr(result[i], "error") != NULL;
  }
  return bad;
}
`;

let threadsPath: string | undefined;
function threadsProgram(): string {
  if (threadsPath === undefined) {
    const d = workDir();
    writeFileSync(join(d, "threads.c"), THREADS_C);
    execFileSync("cc", ["-O2", "-Wall", "-pthread", "-o", join(d, "threads"), join(d, "threads.c")]);
    threadsPath = join(d, "threads");
  }
  return threadsPath;
}

const PY_SOCKET = [
  "import socket",
  "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
  "s.bind(('127.0.0.1', 0)); s.listen()",
  "c = socket.create_connection(s.getsockname()); a, _ = s.accept()",
  "c.sendall(b'ping'); print(a.recv(4).decode())",
].join("\n");

/** `ls -la /` output as mode and name only (link counts and times of /proc and /tmp change while tests run). */
const stable = (out: string): string =>
  out
    .split("\n")
    .filter((l) => !l.startsWith("total "))
    .map((l) => l.split(/\s+/).filter((_w, i, a) => i === 0 || i === a.length - 1).join(" "))
    .join("\n");

interface Case {
  name: string;
  command: () => string[];
  /** A recorded syscall whose removal breaks the command. */
  remove: string;
  normalize?: (s: string) => string;
}

const CASES: Case[] = [
  { name: "python3 with a loopback socket", command: () => [PYTHON, "-c", PY_SOCKET], remove: "socket" },
  { name: "ls -la /", command: () => ["ls", "-la", "/"], remove: "getdents64", normalize: stable },
  { name: "sh -c 'date; id'", command: () => ["sh", "-c", "date +%Y; id"], remove: "getgroups" },
  { name: "a program with four threads", command: () => [threadsProgram()], remove: "uname" },
];

describe("syscage record: record, then replay with syscage run", () => {
  for (const c of CASES) {
    test(c.name, (t) => {
      if (setup(t) === null || !needRoot(t)) return;
      const cmd = c.command();
      const norm = c.normalize ?? ((s: string) => s);
      const plain = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", input: "" });
      assert.equal(plain.status, 0, plain.stderr);
      const dir = workDir();
      const out = join(dir, "policy.json");
      const rec = syscage(["record", "-o", out, "--", ...cmd]);
      assert.equal(rec.status, 0, rec.stderr);
      assert.equal(norm(rec.stdout), norm(plain.stdout), "the recorded command behaves as without recording");
      assert.match(rec.stderr, /recorded \d+ distinct syscalls/);
      const policy = parsePolicyJson(readFileSync(out, "utf8"), out);
      assert.equal(policy.default.action.kind, "ERRNO");
      assert.equal(policy.unknown.action.kind, "ERRNO");
      const allowed = new Set(policy.rules.filter((r) => r.action.kind === "ALLOW").map((r) => r.syscall));
      assert.ok(allowed.has(c.remove), `${c.remove} was recorded: ${[...allowed].join(" ")}`);
      assert.ok(allowed.has("execve") && (allowed.has("exit_group") || allowed.has("exit")));
      // None of the helper's or the supervisor's own calls leak into the recording.
      for (const own of ["seccomp", "pidfd_open", "pidfd_getfd", "prctl", "capset"]) assert.ok(!allowed.has(own), `${own} is not the command's`);

      const replay = syscage(["run", "--policy", out, "--", ...cmd]);
      assert.equal(replay.status, 0, replay.stderr);
      assert.equal(norm(replay.stdout), norm(plain.stdout));

      const doc = JSON.parse(readFileSync(out, "utf8")) as { rules: { syscalls?: string[]; syscall?: string }[] };
      for (const r of doc.rules) if (r.syscalls !== undefined) r.syscalls = r.syscalls.filter((n) => n !== c.remove);
      const cut = join(dir, "cut.json");
      writeFileSync(cut, JSON.stringify(doc));
      const broken = syscage(["run", "--policy", cut, "--", ...cmd]);
      assert.ok(broken.status !== 0 || norm(broken.stdout) !== norm(plain.stdout), `without ${c.remove} the command must fail (status ${broken.status})`);
    });
  }

  test("the recording waits for descendants that outlive the command", (t) => {
    if (setup(t) === null || !needRoot(t)) return;
    const out = join(workDir(), "p.json");
    const r = syscage(["record", "-o", out, "--", "sh", "-c", "sleep 0.3 & echo started"]);
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(out, "utf8");
    assert.match(text, /"clock_nanosleep"|"nanosleep"/, "sleep's own calls, made after sh exited, are recorded");
  });

  test("exit status is the command's, and the policy is still written", (t) => {
    if (setup(t) === null || !needRoot(t)) return;
    const out = join(workDir(), "p.json");
    const r = syscage(["record", "-o", out, "--", "sh", "-c", "exit 3"]);
    assert.equal(r.status, 3, r.stderr);
    assert.ok(existsSync(out));
  });
});

describe("syscage record: complain mode", () => {
  test("nspawn default with ~@file-system lists ls's file syscalls, and ls completes", (t) => {
    if (setup(t) === null || !needRoot(t)) return;
    const plain = spawnSync("ls", ["/"], { encoding: "utf8" });
    const report = join(workDir(), "report.json");
    const r = syscage(["record", "--system-call-filter=~@file-system", "-o", report, "--", "ls", "/"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, plain.stdout, "ls ran unhindered");
    const doc = JSON.parse(readFileSync(report, "utf8")) as { wouldDeny: { syscall: string; action: string; origin: string }[] };
    const names = doc.wouldDeny.map((d) => d.syscall);
    for (const n of ["openat", "getdents64"]) assert.ok(names.includes(n), `${n} listed: ${names.join(" ")}`);
    const fileSystem = new Set(expandItem("@file-system"));
    for (const d of doc.wouldDeny) {
      assert.ok(fileSystem.has(d.syscall), `${d.syscall} is a file syscall`);
      assert.equal(d.action, "ERRNO(EPERM)");
      assert.match(d.origin, /~@file-system/);
    }
    assert.match(r.stderr, /would deny \d+ distinct calls/);
    assert.match(r.stderr, /x86_64 openat\s+ERRNO\(EPERM\)\s+by rule #\d+: .*~@file-system/);
  });

  test("the nspawn default itself denies nothing ls does", (t) => {
    if (setup(t) === null || !needRoot(t)) return;
    const r = syscage(["record", "--system-call-filter=@system-service", "--", "ls", "/"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /would deny nothing/);
  });

  test("complain mode rejects the plain-recording options", (t) => {
    if (setup(t) === null) return;
    const r = syscage(["record", "--system-call-filter=~@clock", "--widen-groups", "-o", "/tmp/x", "--", "true"]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /--widen-groups apply to plain recording/);
  });
});

describe("syscage record: options", () => {
  test("--args: socket families become argument rules; another family is denied", (t) => {
    if (setup(t) === null || !needRoot(t)) return;
    const dir = workDir();
    const out = join(dir, "p.json");
    const r = syscage(["record", "--args", "-o", out, "--", PYTHON, "-c", PY_SOCKET]);
    assert.equal(r.status, 0, r.stderr);
    const policy = parsePolicyJson(readFileSync(out, "utf8"), out);
    const sock = policy.rules.filter((x) => x.syscall === "socket");
    assert.ok(sock.length >= 1 && sock.every((x) => x.conditions.length === 1), "socket only with a family condition");
    const nr = syscallNumber("x86_64", "socket")!;
    const arch = getAbi("x86_64").auditArch;
    assert.equal(decide(policy, { arch, nr, args: [2n, 1n, 0n] }).action.kind, "ALLOW", "AF_INET was recorded");
    assert.equal(decide(policy, { arch, nr, args: [10n, 1n, 0n] }).action.kind, "ERRNO", "AF_INET6 was not");
    const replay = syscage(["run", "--policy", out, "--", PYTHON, "-c", PY_SOCKET]);
    assert.equal(replay.status, 0, replay.stderr);
    assert.equal(replay.stdout, "ping\n");
    const v6 = syscage(["run", "--policy", out, "--", PYTHON, "-c", "import socket; socket.socket(socket.AF_INET6)"]);
    assert.notEqual(v6.status, 0, "an AF_INET6 socket is refused");
    assert.match(v6.stderr, /PermissionError|Operation not permitted/);
  });

  test("--widen-groups adds the home groups; --merge keeps an earlier run's syscalls", (t) => {
    if (setup(t) === null || !needRoot(t)) return;
    const dir = workDir();
    const a = join(dir, "a.json");
    assert.equal(syscage(["record", "-o", a, "--", "sh", "-c", "date +%Y"]).status, 0);
    const before = parsePolicyJson(readFileSync(a, "utf8"), a);
    assert.ok(!before.rules.some((r) => r.syscall === "uname"));
    const merged = syscage(["record", "--merge", a, "-o", a, "--", threadsProgram()]);
    assert.equal(merged.status, 0, merged.stderr);
    const after = parsePolicyJson(readFileSync(a, "utf8"), a);
    const names = new Set(after.rules.map((r) => r.syscall));
    for (const r of before.rules) assert.ok(names.has(r.syscall), `${r.syscall} kept by --merge`);
    assert.ok(names.has("uname"));
    for (const cmd of [["sh", "-c", "date +%Y"], [threadsProgram()]]) assert.equal(syscage(["run", "--policy", a, "--", ...cmd]).status, 0);

    const w = join(dir, "w.json");
    const wide = syscage(["record", "--widen-groups", "-o", w, "--", "ls", "/"]);
    assert.equal(wide.status, 0, wide.stderr);
    const wp = parsePolicyJson(readFileSync(w, "utf8"), w);
    const wn = new Set(wp.rules.map((r) => r.syscall));
    // ls reads directories (getdents64 → @file-system): the whole group is allowed, mkdir included.
    for (const m of expandItem("@file-system").filter((n) => syscallNumber("x86_64", n) !== undefined)) assert.ok(wn.has(m), `${m} (widened)`);
    assert.ok(!wn.has("reboot") && !wn.has("init_module"), "groups nothing was seen from stay out");
  });

  test("--output-format oci: the profile replays with syscage run --profile; --merge reads it back", (t) => {
    if (setup(t) === null || !needRoot(t)) return;
    const dir = workDir();
    const out = join(dir, "ls.oci.json");
    const r = syscage(["record", "--output-format", "oci", "-o", out, "--", "ls", "/"]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(readFileSync(out, "utf8")) as { defaultAction: string; syscalls: { names: string[]; action: string }[] };
    assert.equal(doc.defaultAction, "SCMP_ACT_ERRNO");
    assert.ok(doc.syscalls.some((s) => s.action === "SCMP_ACT_ALLOW" && s.names.includes("getdents64")));
    const replay = syscage(["run", "--profile", out, "--", "ls", "/"]);
    assert.equal(replay.status, 0, replay.stderr);
    const again = syscage(["record", "--output-format", "oci", "--merge", out, "-o", out, "--", "true"]);
    assert.equal(again.status, 0, again.stderr);
    assert.ok(readFileSync(out, "utf8").includes("getdents64"), "merged");
    // systemd adds @default to an allow list: the export takes the members the recording lacks out
    // again (SystemCallFilter=~…, issue #19 item 6), and the read-back check finds it exact.
    const sd = syscage(["record", "--output-format", "systemd", "-o", join(dir, "ls.systemd"), "--", "ls", "/"]);
    assert.equal(sd.status, 0, sd.stderr);
    const lines = readFileSync(join(dir, "ls.systemd"), "utf8").split("\n");
    assert.match(lines[0]!, /^SystemCallFilter=.*\bgetdents64\b/);
    assert.ok(lines.some((l) => /^SystemCallFilter=~.*\bgetppid\b/.test(l)), `@default's getppid taken out again:\n${lines.join("\n")}`);
    assert.ok(!existsSync(join(dir, "ls.systemd.syscage.json")), "nothing kept aside: the export was written");
    for (const f of ["spo", "docker"] as const) {
      const o = join(dir, `ls.${f}`);
      const x = syscage(["record", "--output-format", f, "-o", o, "--", "ls", "/"]);
      assert.equal(x.status, 0, `${f}: ${x.stderr}`);
      const m = syscage(["record", "--output-format", f, "--merge", o, "-o", o, "--", "true"]);
      assert.equal(m.status, 0, `${f} merge: ${m.stderr}`);
      assert.ok(readFileSync(o, "utf8").includes("getdents64"), `${f}: merged output keeps getdents64`);
    }
  });
});

describe("syscage record: bad input writes nothing", () => {
  const cases: { name: string; args: (out: string) => string[]; env?: NodeJS.ProcessEnv; status: number; message: RegExp }[] = [
    { name: "command not found", args: (o) => ["record", "-o", o, "--", "/nonexistent/command"], status: 127, message: /\/nonexistent\/command: No such file or directory/ },
    {
      name: "helper unavailable",
      args: (o) => ["record", "-o", o, "--", "true"],
      env: { SYSCAGE_HELPER: "/nonexistent/syscage-exec" },
      status: 125,
      message: /native helper \/nonexistent\/syscage-exec does not exist or is not executable/,
    },
    {
      name: "kernel without user notification (simulated)",
      args: (o) => ["record", "-o", o, "--", "true"],
      env: { SYSCAGE_TEST_NO_USER_NOTIF: "1" },
      status: 125,
      message: /does not support seccomp user notification/,
    },
    { name: "no -o", args: () => ["record", "--", "true"], status: 125, message: /-o FILE is required/ },
    { name: "unreadable --merge", args: (o) => ["record", "--merge", "/nonexistent.json", "-o", o, "--", "true"], status: 125, message: /nonexistent\.json/ },
    // The output path is checked before the command runs (its output would show RAN, and the recording be lost).
    { name: "-o names a directory", args: (o) => ["record", "-o", dirname(o), "--", "sh", "-c", "echo RAN"], status: 125, message: /is a directory; give a file name.*/ },
    { name: "-o in a missing directory", args: (o) => ["record", "-o", join(o, "x", "p.json"), "--", "sh", "-c", "echo RAN"], status: 125, message: /does not exist; nothing was run/ },
  ];
  for (const c of cases) {
    test(c.name, (t) => {
      if (setup(t) === null || !needRoot(t)) return;
      const dir = workDir();
      const out = join(dir, "out.json");
      const fresh = syscage(c.args(out), c.env);
      assert.equal(fresh.status, c.status, fresh.stderr);
      assert.doesNotMatch(fresh.stdout, /RAN/, "the command did not run");
      assert.match(fresh.stderr, c.message);
      assert.equal(fresh.stderr.trim().split("\n").length, 1, `one line: ${fresh.stderr}`);
      assert.ok(!existsSync(out), "no output file");
      writeFileSync(out, "previous\n");
      syscage(c.args(out), c.env);
      assert.equal(readFileSync(out, "utf8"), "previous\n", "an existing file is left alone");
    });
  }
});

describe("record() library", () => {
  test("records threads and descendants, and ignores nothing of the command", async (t) => {
    if (setup(t) === null || !needRoot(t)) return;
    const r = await record("sh", ["-c", `${threadsProgram()}; true`], { capture: true });
    assert.equal(r.code, 0);
    assert.match(r.stdout!, /thread 3: Linux/);
    const names = new Set(r.calls.map((c) => c.syscall));
    for (const n of ["execve", "uname", "wait4"]) assert.ok(names.has(n), n);
    assert.ok(r.notifications >= r.calls.length);
  });
});

describe("policy generation (no kernel)", () => {
  const x = (syscall: string, extra: Partial<RecordedCall> = {}): RecordedCall => ({
    arch: getAbi("x86_64").auditArch,
    nr: syscallNumber("x86_64", syscall)!,
    abi: "x86_64",
    syscall,
    argMask: 0,
    args: [0n, 0n, 0n, 0n, 0n, 0n],
    ...extra,
  });

  test("exactly the recorded syscalls, on the recorded ABIs; JSON round trip", () => {
    const g = policyFromRecording([x("read"), x("write"), x("read")], { abis: ["x86_64", "x86", "x32"] });
    assert.deepEqual(g.allowed, ["read", "write"]);
    assert.deepEqual(g.policy.abis, ["x86_64"]);
    const back = parsePolicyJson(formatPolicyJson(g.policy), "p.json");
    const arch = getAbi("x86_64").auditArch;
    for (const [name, want] of [["read", "ALLOW"], ["write", "ALLOW"], ["openat", "ERRNO"]] as const) {
      assert.equal(decide(back, { arch, nr: syscallNumber("x86_64", name)!, args: [] }).action.kind, want, name);
    }
    assert.equal(decide(back, { arch, nr: 4000, args: [] }).ret & 0xffff, 38, "unknown numbers get ENOSYS");
    assert.equal(decide(back, { arch: getAbi("x86").auditArch, nr: 3, args: [] }).action.kind, "KILL_PROCESS", "x86 was not recorded");
  });

  test("home groups: the smallest group, never @known/@system-service/@privileged", () => {
    assert.equal(homeGroup("reboot"), "@reboot");
    assert.equal(homeGroup("getdents64"), "@file-system");
    assert.notEqual(homeGroup("capset"), "@privileged");
    assert.equal(homeGroup("ioctl"), undefined);
  });

  test("argument rules: 32-bit arguments compare the low word; merge keeps earlier values", () => {
    const sock = (fam: bigint): RecordedCall => x("socket", { argMask: 1, args: [fam, 1n, 0n, 0n, 0n, 0n] });
    const first = policyFromRecording([sock(2n)], { abis: ["x86_64"], argRules: true }).policy;
    const g = policyFromRecording([sock(0xffffffff00000001n)], { abis: ["x86_64"], argRules: true, merge: first });
    const arch = getAbi("x86_64").auditArch;
    const nr = syscallNumber("x86_64", "socket")!;
    assert.equal(decide(g.policy, { arch, nr, args: [2n] }).action.kind, "ALLOW");
    assert.equal(decide(g.policy, { arch, nr, args: [1n] }).action.kind, "ALLOW", "high word ignored for an int");
    assert.equal(decide(g.policy, { arch, nr, args: [10n] }).action.kind, "ERRNO");
    assert.deepEqual([...g.conditional.keys()], ["socket"]);
  });

  test("unknown numbers and uncovered architectures are warnings, not rules", () => {
    const g = policyFromRecording([x("read"), { arch: getAbi("x86_64").auditArch, nr: 4000, abi: "x86_64", argMask: 0, args: [] }, { arch: 0x1234, nr: 1, argMask: 0, args: [] }], { abis: ["x86_64"] });
    assert.deepEqual(g.allowed, ["read"]);
    assert.equal(g.warnings.length, 2);
  });
});
