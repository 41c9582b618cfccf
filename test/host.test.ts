/**
 * The host probe (src/host/) and `syscage doctor`: each fact against an
 * independent check (test/helpers/host-check.c, direct syscalls, /proc, uname),
 * the i386 verdict under a filter that forbids i386 calls (as on a kernel
 * without ia32 emulation), and doctor's text, JSON and exit statuses.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { hostNotes } from "../src/host/advice.js";
import { SECCOMP_FLAGS, kernelAtLeast, parseKernelVersion, probeHost, type HostFacts } from "../src/host/probe.js";
import { CLI_NODE_ARGS, ROOT, cli } from "./helpers/cli.js";
import { hostFacts } from "./helpers/host.js";
import { needOracle } from "./helpers/oracles.js";

const here = (f: string): string => fileURLToPath(new URL(`./helpers/${f}`, import.meta.url));
const built = new Map<string, string>();

/** Compile test/helpers/NAME.c once. */
function buildC(name: string): string {
  const have = built.get(name);
  if (have !== undefined) return have;
  const dir = mkdtempSync(join(tmpdir(), "syscage-host-"));
  chmodSync(dir, 0o755);
  const out = join(dir, name);
  execFileSync("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", out, here(`${name}.c`)], { stdio: ["ignore", "ignore", "inherit"] });
  built.set(name, out);
  return out;
}

const check = (...args: string[]): string => execFileSync(buildC("host-check"), args, { encoding: "utf8" }).trim();

function linuxX64(t: TestContext): boolean {
  if (process.platform === "linux" && process.arch === "x64") return true;
  t.skip(`the independent checks are x86_64 Linux code; this is ${process.platform}/${process.arch}`);
  return false;
}

describe("the host probe", () => {
  test("kernel versions: parsed from release strings, compared by major.minor", () => {
    assert.deepEqual(parseKernelVersion("6.18.44-fc-v1252"), [6, 18, 44]);
    assert.deepEqual(parseKernelVersion("5.10.0-28-amd64"), [5, 10, 0]);
    assert.deepEqual(parseKernelVersion("6.2"), [6, 2, 0]);
    assert.equal(parseKernelVersion("weird"), null);
    assert.equal(kernelAtLeast([5, 11, 0], 5, 11), true);
    assert.equal(kernelAtLeast([5, 10, 200], 5, 11), false);
    assert.equal(kernelAtLeast([6, 0, 0], 5, 11), true);
    assert.equal(kernelAtLeast(null, 5, 11), null);
  });

  test("every fact agrees with an independent check", (t) => {
    if (!linuxX64(t) || !needOracle(t, "cc", "seccomp-kernel")) return;
    const f = hostFacts();
    assert.equal(f.helper.runs, true, f.helper.detail);
    assert.equal(f.kernel.release, execFileSync("uname", ["-r"], { encoding: "utf8" }).trim());
    assert.equal(f.kernel.machine, execFileSync("uname", ["-m"], { encoding: "utf8" }).trim());
    assert.equal(f.abis.native, "x86_64");
    assert.equal(f.abis.i386.available, check("i386") === "yes", `i386: probe says ${f.abis.i386.detail}`);
    assert.equal(f.abis.x32.available, check("x32") === "yes", `x32: probe says ${f.abis.x32.detail}`);
    assert.equal(f.landlock.abi, Number(check("landlock")), f.landlock.detail);
    assert.equal(f.ioUring.setup.available, check("io_uring") === "yes", f.ioUring.setup.detail);
    // User namespaces through util-linux's unshare(1), as this user and as nobody.
    if (spawnSync("unshare", ["--version"]).status === 0) {
      assert.equal(f.userNamespaces.self.available, spawnSync("unshare", ["-U", "true"]).status === 0, `userns: ${f.userNamespaces.self.detail}`);
      if (process.geteuid?.() === 0) {
        assert.equal(f.userNamespaces.unprivileged.available, spawnSync("unshare", ["-U", "true"], { uid: 65534, gid: 65534 }).status === 0, `unprivileged userns: ${f.userNamespaces.unprivileged.detail}`);
      }
    }
    SECCOMP_FLAGS.forEach((name, bit) => assert.equal(f.seccomp.flags[name], check("flag", String(bit)) === "yes", `seccomp flag ${name}`));
    // /proc as another process sees it (the child inherits this process's filters and no_new_privs).
    const status = execFileSync("cat", ["/proc/self/status"], { encoding: "utf8" });
    const field = (k: string): string | undefined => new RegExp(`^${k}:\\s*(\\S+)`, "m").exec(status)?.[1];
    assert.equal(f.process.seccompMode, Number(field("Seccomp")));
    assert.equal(f.process.seccompFilters, field("Seccomp_filters") === undefined ? null : Number(field("Seccomp_filters")));
    assert.equal(f.process.noNewPrivs, field("NoNewPrivs") === "1");
    assert.equal(f.process.euid, process.geteuid!());
    const avail = readFileSync("/proc/sys/kernel/seccomp/actions_avail", "utf8").trim().split(" ");
    for (const [a, v] of Object.entries(f.seccomp.actions)) assert.equal(v, avail.includes(a), `action ${a}`);
    const sysctl = (p: string): number | null => {
      try {
        return Number(readFileSync(p, "utf8").trim());
      } catch {
        return null;
      }
    };
    assert.equal(f.ioUring.disabledSysctl, sysctl("/proc/sys/kernel/io_uring_disabled"));
    const tiocsti = sysctl("/proc/sys/dev/tty/legacy_tiocsti");
    if (tiocsti !== null) assert.equal(f.terminal.legacyTiocsti, tiocsti === 1);
    // Landlock's presence in the LSM list, where securityfs shows it.
    let lsm: string | null = null;
    try {
      lsm = readFileSync("/sys/kernel/security/lsm", "utf8");
    } catch {
      lsm = null;
    }
    if (lsm !== null) assert.equal(lsm.split(",").includes("landlock"), (f.landlock.abi ?? 0) > 0, `lsm list ${lsm}`);
    t.diagnostic(`host: ${f.kernel.release}; i386 ${f.abis.i386.detail}; Landlock ${f.landlock.abi}; filters on this process ${f.process.seccompFilters}`);
  });

  test("under a filter that forbids i386 calls (as without ia32 emulation) the probe says i386 cannot run", (t) => {
    if (!linuxX64(t) || !needOracle(t, "cc", "seccomp-kernel")) return;
    if (process.geteuid?.() !== 0) {
      t.skip("needs root: test/helpers/no-ia32.c loads its filter without no_new_privs");
      return;
    }
    const before = hostFacts();
    const r = spawnSync(buildC("no-ia32"), [process.execPath, ...CLI_NODE_ARGS, "doctor", "--json"], { cwd: ROOT, encoding: "utf8" });
    assert.ok(r.status === 0 || r.status === 1, `doctor exit ${r.status}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout) as HostFacts & { notes: { id: string; level: string; message: string }[]; status: number };
    assert.equal(doc.abis.i386.available, false);
    // Where the kernel itself has no ia32 emulation, int $0x80 faults (SIGSEGV) before any filter sees it.
    if (before.abis.i386.available) assert.match(doc.abis.i386.detail, /signal 31/);
    else assert.equal(doc.abis.i386.detail, before.abis.i386.detail, "the kernel's own fault, filter or not");
    assert.equal(doc.process.seccompMode, 2);
    assert.equal(doc.process.seccompFilters, (before.process.seccompFilters ?? 0) + 1);
    const ids = doc.notes.map((n) => n.id);
    assert.ok(ids.includes("no-i386") && ids.includes("already-filtered"), ids.join(" "));
    assert.equal(doc.notes.find((n) => n.id === "no-i386")!.level, "note", "i386 not running limits no command of syscage");
    // And in words.
    const text = spawnSync(buildC("no-ia32"), [process.execPath, ...CLI_NODE_ARGS, "doctor"], { cwd: ROOT, encoding: "utf8" });
    assert.match(text.stdout, /i386 calls cannot run on this kernel/);
    assert.match(text.stdout, /already under \d+ seccomp filter/);
  });
});

describe("syscage doctor", () => {
  test("--json: the facts, the notes and the documented status; the exit status is the status", (t) => {
    if (!linuxX64(t) || !needOracle(t, "cc", "seccomp-kernel")) return;
    const r = cli("doctor", "--json");
    const doc = JSON.parse(r.out) as HostFacts & { notes: { id: string; level: string }[]; status: number };
    assert.equal(doc.version, 1);
    assert.equal(r.code, doc.status);
    assert.equal(doc.status, doc.notes.some((n) => n.level === "limit") ? 1 : 0);
    assert.deepEqual(doc.notes, hostNotes(probeHost()).map((n) => ({ ...n })), "the same notes as the library gives");
    assert.equal(doc.landlock.abi, Number(check("landlock")));
    assert.equal(doc.abis.i386.available, check("i386") === "yes");
  });

  test("text: one line per fact, the Landlock ABI and what i386 calls do here", (t) => {
    if (!linuxX64(t) || !needOracle(t, "cc", "seccomp-kernel")) return;
    const r = cli("doctor");
    assert.equal(r.code, hostNotes(probeHost()).some((n) => n.level === "limit") ? 1 : 0, r.err);
    const abi = Number(check("landlock"));
    assert.match(r.out, abi > 0 ? new RegExp(`^Landlock\\s+ABI ${abi}$`, "m") : /^Landlock\s+no: /m);
    assert.match(r.out, check("i386") === "yes" ? /^i386 calls \(int \$0x80\)\s+yes$/m : /i386 calls cannot run on this kernel/);
    assert.match(r.out, /^native helper\s+ok /m);
  });

  test("a helper that is not the helper, or none: a LIMIT with the fix, exit 1, syscall facts unknown", (t) => {
    if (!linuxX64(t)) return;
    const dir = mkdtempSync(join(tmpdir(), "syscage-doctor-"));
    const empty = join(dir, "syscage-exec");
    writeFileSync(empty, "");
    chmodSync(empty, 0o755);
    for (const [helper, id, fix] of [
      [empty, "helper-broken", /build:native -- --force/],
      [join(dir, "missing"), "helper-missing", /npm run build:native/],
    ] as const) {
      const r = cli("doctor", "--json", "--helper", helper);
      assert.equal(r.code, 1, r.err);
      const doc = JSON.parse(r.out) as HostFacts & { notes: { id: string; level: string; fix: string }[] };
      const note = doc.notes.find((n) => n.id === id);
      assert.ok(note !== undefined && note.level === "limit", JSON.stringify(doc.notes));
      assert.match(note.fix, fix);
      assert.equal(doc.abis.i386.available, null, "unknown, never guessed");
      assert.equal(doc.landlock.abi, null);
      const text = cli("doctor", "--helper", helper);
      assert.equal(text.code, 1);
      assert.match(text.out, /^LIMIT: the native helper/m);
    }
  });

  test("--help says what it probes and the exit statuses", () => {
    const r = cli("doctor", "--help");
    assert.equal(r.code, 0);
    for (const s of ["int $0x80", "Landlock", "0 everything", "1 something is missing", "2 the probe failed", "--json"]) assert.ok(r.out.includes(s), s);
  });
});
