/**
 * `syscage dump` and the `pid:N` sources, against the running kernel:
 *
 * - a `syscage run` child (bin/syscage, with an added filter written in
 *   `syscage asm`): the dumped programs are byte for byte what the launcher
 *   planned, oldest first, and `prove pid:N` of the same policy says
 *   equivalent (and refutes a policy without the added filter); diff,
 *   explain and stats read the same stack;
 * - a `bwrap --seccomp FD` process, running and started by `dump
 *   --until-filter -- bwrap …`: the dump is the file bwrap was given, and
 *   `prove pid:N` of the policy it was compiled from says equivalent;
 * - a real systemd-nspawn container: the dump is what an independent reader
 *   (test/helpers/dump-filters.c) reads, and proves equivalent to the
 *   installed release's nspawn policy;
 * - no filter, a kernel thread, a vanished pid, no privilege (as nobody), a
 *   reader under seccomp, a command that is not there: one line each, with
 *   the documented exit status (docs/dump.md).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test, type TestContext } from "node:test";
import { hostAbi, syscallTable, type AbiName } from "../src/abi/index.js";
import { prove } from "../src/analyze/prove.js";
import { assemble } from "../src/bpf/asm.js";
import { decodeProgram, encodeProgram } from "../src/bpf/codec.js";
import { disassemble } from "../src/bpf/disasm.js";
import { verify } from "../src/bpf/verify.js";
import { NSPAWN_ALLOW_LIST, NSPAWN_DEFAULT_RETAINED_CAPABILITIES } from "../src/policy/generated/systemd.js";
import type { Policy } from "../src/policy/model.js";
import { planLaunch } from "../src/run/launch.js";
import { CLI_NODE_ARGS, ROOT, cli, ensureBuilt, spawnCli } from "./helpers/cli.js";
import { needHost } from "./helpers/host.js";
import { dumpNspawnFilters, installedNspawnTable, installedSyscallGroups, libseccompFacts, nspawnVersion, parseDump, dumpHelperDir, withNspawnPayload } from "./helpers/nspawn.js";
import { DEBIAN_PYTHON, REQUIRE_ORACLES, needOracle } from "./helpers/oracles.js";
import { installedNspawnReference, nspawnDataPolicy } from "./helpers/prove-nspawn.js";
import { NOBODY, checkoutReadableBy, findProcess as findFilteredProcess, needRoot } from "./helpers/run-probe.js";

const DIR = mkdtempSync(join(tmpdir(), "syscage-dump-"));
after(() => rmSync(DIR, { recursive: true, force: true }));

const BIN = join(ROOT, "bin", "syscage");
const READ_FILTERS_COVERED = "the parsing and error tests of test/dump.test.ts that need no privilege, and prove of our own programs (test/prove.test.ts)";

/** A filter denying mkdir (ERRNO(EPERM)) on x86_64, x32 and x86, allowing everything else: hand-written in syscage's assembly, with names. */
const DENY_MKDIR = `
; deny mkdir on every x86 ABI, allow the rest
        ld [4]                          ; arch
        jne #AUDIT_ARCH_X86_64, i386
        ld [0]                          ; nr
        jeq #mkdir, deny                ; x86_64 (the arch compared above)
        jeq #x32:mkdir, deny, allow
i386:   jne #AUDIT_ARCH_I386, allow
        ld [0]
        jeq #mkdir, deny, allow         ; numbered on x86 now
allow:  ret ALLOW
deny:   ret ERRNO(1)
`;

let uniq = 0;
/** A sleep argument no other process has, to find the process by its command line. */
function uniqueSleep(): string {
  return `${3000 + (process.pid % 1000)}.${++uniq}${Date.now() % 1000}`;
}

/** The pid of the process whose command line is exactly `argv`, once it has `Seccomp: want` (or any mode when undefined). */
async function findProcess(argv: readonly string[], want: string | undefined, timeoutMs = 15_000): Promise<number> {
  const pid = await findFilteredProcess(argv, want, timeoutMs);
  found.push(pid);
  return pid;
}

const children: ChildProcess[] = [];
/** The processes found by findProcess (the sleeps: the launchers' grandchildren, not ours to wait for). */
const found: number[] = [];
after(() => {
  for (const pid of found) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const c of children) c.kill("SIGKILL");
});

function start(cmd: string, args: readonly string[], opts: { uid?: number; stdio?: ("ignore" | "pipe" | "inherit" | number)[] } = {}): ChildProcess {
  const c = spawn(cmd, args, { stdio: opts.stdio ?? ["ignore", "ignore", "ignore"], ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}) });
  c.unref();
  children.push(c);
  return c;
}

/** The manifest a dump writes (docs/dump.md). */
interface Manifest {
  version: number;
  pid: number;
  name: string;
  cmdline: string[];
  stoppedAt: string;
  seccomp: { mode: number; modeName: string; filters: number | null };
  noNewPrivs: boolean;
  byteOrder: string;
  filters: { index: number; file?: string; instructions: number; bytes: number; sha256: string; flags: number | null; flagNames: string[]; program?: string }[];
}

/** A dump with -o: the manifest (printed with --json, and written) and the raw files. */
function dumpTo(target: readonly string[]): { manifest: Manifest; files: Buffer[]; dir: string } {
  const dir = join(DIR, `dump-${++uniq}`);
  const r = cli("dump", ...target.slice(0, 1), "-o", dir, "--json", ...target.slice(1));
  assert.equal(r.code, 0, r.err);
  const manifest = JSON.parse(r.out) as Manifest;
  assert.deepEqual(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")), manifest, "the written manifest is the printed one");
  return { manifest, files: manifest.filters.map((f) => readFileSync(join(dir, f.file!))), dir };
}

/** One `syscage:` line on stderr, nothing on stdout, exit `code`, every fragment in the line. */
function oneLine(r: { code: number | null; out: string; err: string }, code: number, ...fragments: string[]): void {
  assert.equal(r.code, code, `exit status; stderr: ${r.err}`);
  assert.equal(r.out, "", "nothing on stdout");
  const lines = r.err.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one line:\n${r.err}`);
  assert.match(lines[0]!, /^syscage: /);
  assert.doesNotMatch(r.err, /\n\s+at |Error:/);
  for (const f of fragments) assert.ok(lines[0]!.includes(f), `${JSON.stringify(f)} missing from: ${lines[0]}`);
}

function x86Host(t: TestContext): boolean {
  if (hostAbi() === "x86_64") return true;
  t.skip(`the filters here are written for x86_64, x86 and x32; this host is ${hostAbi()}`);
  return false;
}

test("dump of a `syscage run` child: the planned bytes, oldest first; prove/diff/explain/stats of pid:N", async (t) => {
  if (!needHost(t, "read-filters", READ_FILTERS_COVERED) || !x86Host(t)) return;
  ensureBuilt();
  const deny = assemble(DENY_MKDIR, "deny-mkdir.s");
  assert.deepEqual(verify(deny), []);
  const denyFile = join(DIR, "deny-mkdir.bpf");
  writeFileSync(denyFile, encodeProgram(deny));
  // The same file through the CLI assembler.
  writeFileSync(join(DIR, "deny-mkdir.s"), DENY_MKDIR);
  const viaCli = spawnSync(process.execPath, [...CLI_NODE_ARGS, "asm", join(DIR, "deny-mkdir.s"), "-o", join(DIR, "deny-cli.bpf")], { encoding: "utf8" });
  assert.equal(viaCli.status, 0, viaCli.stderr);
  assert.deepEqual(readFileSync(join(DIR, "deny-cli.bpf")), readFileSync(denyFile));

  const arg = uniqueSleep();
  start(BIN, ["run", "--routes=open", "--add-filter", denyFile, "--", "sleep", arg]);
  const pid = await findProcess(["sleep", arg], "2");

  // What the launcher loads for these options, in load order.
  const plan = planLaunch({ routes: "open", addFilters: [encodeProgram(deny)] });
  const planned = plan.programs.map((p) => Buffer.from(encodeProgram(p.insns)));
  assert.equal(planned.length, 2);

  const { manifest, files } = dumpTo([String(pid)]);
  assert.equal(manifest.version, 1);
  assert.equal(manifest.pid, pid);
  assert.equal(manifest.name, "sleep");
  assert.deepEqual(manifest.cmdline, ["sleep", arg]);
  assert.equal(manifest.stoppedAt, "attach");
  assert.equal(manifest.seccomp.mode, 2);
  assert.equal(manifest.seccomp.filters, 2);
  assert.equal(manifest.noNewPrivs, true);
  assert.deepEqual(manifest.filters.map((f) => f.file), ["0.bpf", "1.bpf"]);
  assert.deepEqual(files, planned, "byte-identical to what was loaded, the added filter first (oldest)");
  assert.deepEqual(manifest.filters.map((f) => f.instructions), plan.programs.map((p) => p.insns.length));
  assert.deepEqual(manifest.filters.map((f) => f.flagNames), [[], []], "no LOG flag");
  // -o refuses a directory that holds files already (no mixing of two dumps).
  const again = join(DIR, "again");
  writeFileSync(join(DIR, "marker"), "");
  assert.equal(cli("dump", String(pid), "-o", again).code, 0);
  oneLine(cli("dump", String(pid), "-o", again), 1, `-o ${again}: the directory is not empty (0.bpf, 1.bpf, manifest.json)`);
  // The process runs on after the dump.
  assert.match(readFileSync(`/proc/${pid}/status`, "utf8"), /^State:\s*S/m);

  // The text dump: a header per filter, and each filter's disassembly assembles back to its bytes.
  const text = cli("dump", String(pid));
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, new RegExp(`^; pid ${pid} \\(sleep\\): sleep ${arg.replace(".", "\\.")}\n; Seccomp: 2 \\(filter\\), 2 filters \\(oldest first\\), no_new_privs 1\n`));
  const parts = text.out.split(/\n(?=; filter \d+ )/).slice(1);
  assert.equal(parts.length, 2);
  parts.forEach((p, i) => {
    assert.match(p, new RegExp(`^; filter ${i} \\(${i === 0 ? "oldest" : "newest"}\\): ${plan.programs[i]!.insns.length} instructions, flags none\n`));
    assert.deepEqual(Buffer.from(encodeProgram(assemble(p, `filter ${i}`))), planned[i]);
  });
  // --json without -o carries the programs as hex.
  const j = cli("dump", String(pid), "--json");
  assert.equal(j.code, 0, j.err);
  const jm = JSON.parse(j.out) as Manifest;
  assert.deepEqual(jm.filters.map((f) => Buffer.from(f.program!, "hex")), planned);

  // prove: the stack is the nspawn default without mkdir; the nspawn default alone is refuted on mkdir.
  const ok = cli("prove", `pid:${pid}`, "--system-call-filter=~mkdir", "--routes=open");
  assert.equal(ok.code, 0, ok.err + ok.out);
  assert.match(ok.out, new RegExp(`^equivalent: pid:${pid} filter 1 of 2 \\(oldest\\) \\+ pid:${pid} filter 2 of 2 \\(newest\\) implements nspawn`));
  const bad = cli("prove", `pid:${pid}`, "--routes=open");
  assert.equal(bad.code, 1, bad.err);
  assert.match(bad.out, /mkdir on (x86_64|x86|x32)/);
  assert.match(bad.out, new RegExp(`program: ERRNO\\(1\\) .*from filter 1 of 2, pid:${pid} filter 1 of 2`));

  // diff: the live stack against the policy meant for it, and against the default.
  const same = cli("diff", `pid:${pid}`, "--b-system-call-filter=~mkdir", "--b-routes=open");
  assert.equal(same.code, 0, same.out + same.err);
  assert.match(same.out, /summary: equal/);
  const differs = cli("diff", `pid:${pid}`, "nspawn", "--b-routes=open", "--json");
  assert.equal(differs.code, 1, differs.err);
  const dj = JSON.parse(differs.out) as { a: { kind: string }; abis: { abi: string; differences: { name: string; a: { action: string; origin: string } }[] }[] };
  assert.equal(dj.a.kind, "process");
  for (const abi of dj.abis) {
    assert.deepEqual(abi.differences.map((d) => d.name), ["mkdir"], abi.abi);
    assert.equal(abi.differences[0]!.a.origin, "filter 1 of 2");
  }

  // explain: each filter's answer, the kept one marked.
  const ex = cli("explain", "mkdir", `pid:${pid}`, "--arch", "x86_64");
  assert.equal(ex.code, 0, ex.err);
  assert.match(ex.out, /mkdir → ERRNO\(EPERM\): pid:\d+ filter 1 of 2 \(oldest\) decides/);
  assert.match(ex.out, /filter 1 of 2 \(oldest\): ERRNO\(EPERM\) after \d+ instructions {2}<- kept/);
  assert.match(ex.out, /filter 2 of 2 \(newest\): ALLOW after \d+ instructions\n/);
  const exOpen = cli("explain", "openat", `pid:${pid}`, "--arch", "x86_64", "--json");
  const ej = JSON.parse(exOpen.out) as { abis: { action: string; decidedBy: number; filters: { action: string }[] }[] };
  assert.equal(ej.abis[0]!.action, "ALLOW");
  assert.equal(ej.abis[0]!.decidedBy, -1);
  oneLine(cli("explain", "mkdir", `pid:${pid}`, "--system-call-filter=~mount"), 1, "--system-call-filter cannot apply to a program");

  // stats: the kernel runs both filters; mkdir is not cacheable (the first filter denies it).
  const st = cli("stats", `pid:${pid}`, "--arch", "x86_64", "--json");
  assert.equal(st.code, 0, st.err);
  const sj = JSON.parse(st.out) as { policy: string; abis: { instructions: number; cache: { syscalls: { name: string; cacheable: boolean; why?: string }[] } }[] };
  assert.equal(sj.abis[0]!.instructions, deny.length + plan.programs[1]!.insns.length);
  const mk = sj.abis[0]!.cache.syscalls.find((s) => s.name === "mkdir")!;
  assert.equal(mk.cacheable, false);
  assert.match(mk.why ?? "", /ERRNO\(1\) \(filter 1 of 2\)/);
  assert.equal(sj.abis[0]!.cache.syscalls.find((s) => s.name === "getpid")!.cacheable, true);
});

test("dump of the default `syscage run` (closed routes, terminal guard): byte-identical to the plan", async (t) => {
  if (!needHost(t, "read-filters", READ_FILTERS_COVERED)) return;
  ensureBuilt();
  const arg = uniqueSleep();
  start(BIN, ["run", "--", "sleep", arg]);
  const pid = await findProcess(["sleep", arg], "2");
  const { files } = dumpTo([String(pid)]);
  assert.deepEqual(files, planLaunch({}).programs.map((p) => Buffer.from(encodeProgram(p.insns))));
});

function bwrapMissing(t: TestContext): boolean {
  if (spawnSync("bwrap", ["--version"]).status === 0) return false;
  if (REQUIRE_ORACLES) throw new Error("oracle bwrap is required (SYSCAGE_REQUIRE_ORACLES=1) but missing (apt-get install bubblewrap)");
  process.stderr.write("\n*** SKIPPED: oracle bwrap missing (apt-get install bubblewrap) ***\n");
  t.skip("bwrap missing");
  return true;
}

test("dump of `bwrap --seccomp FD`: running, and started with --until-filter; prove pid:N of the policy says equivalent", async (t) => {
  if (!needHost(t, "read-filters", READ_FILTERS_COVERED) || bwrapMissing(t)) return;
  const policyFile = join(DIR, "bwrap-policy.json");
  writeFileSync(
    policyFile,
    JSON.stringify({ abis: ["host"], default: "ALLOW", rules: [{ syscall: "mkdir", action: "ERRNO(13)" }, { syscall: "socket", action: "ERRNO(97)", args: [{ index: 0, op: "EQ", value: 16 }] }] }),
  );
  const bpf = join(DIR, "bwrap.bpf");
  const c = cli("compile", "--policy", policyFile, "-o", bpf);
  assert.equal(c.code, 0, c.err);
  const bytes = readFileSync(bpf);
  const bwrapArgs = ["--bind", "/", "/", "--dev-bind", "/dev", "/dev", "--seccomp", "3", "--"];

  // A running bwrap sandbox.
  const arg = uniqueSleep();
  const fd = openSync(bpf, "r");
  start("bwrap", [...bwrapArgs, "sleep", arg], { stdio: ["ignore", "ignore", "ignore", fd] });
  closeSync(fd);
  const pid = await findProcess(["sleep", arg], "2");
  const { manifest, files } = dumpTo([String(pid)]);
  assert.deepEqual(files, [bytes], "the dump is the file bwrap loaded");
  assert.equal(manifest.seccomp.filters, 1);
  const p = cli("prove", `pid:${pid}`, "--policy", policyFile);
  assert.equal(p.code, 0, p.err + p.out);
  assert.match(p.out, /^equivalent: /);
  const refuted = cli("prove", `pid:${pid}`, "--policy", policyFile, "--system-call-filter=~mount");
  assert.notEqual(refuted.code, 0);

  // Started by dump: followed through bwrap's forks until a process has the filter, then killed.
  const fd2 = openSync(bpf, "r");
  const r = spawnSync(process.execPath, [...CLI_NODE_ARGS, "dump", "--json", "--until-filter", "--pass-fd", "3", "--", "bwrap", ...bwrapArgs, "sleep", "3600"], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe", fd2],
    timeout: 60_000,
  });
  closeSync(fd2);
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout) as Manifest;
  assert.equal(m.stoppedAt, "filter");
  assert.equal(m.name, "bwrap");
  assert.deepEqual(m.filters.map((f) => Buffer.from(f.program!, "hex")), [bytes]);
  assert.ok(!existsSync(`/proc/${m.pid}`) || /^State:\s*[ZX]/m.test(readFileSync(`/proc/${m.pid}/status`, "utf8")), "the started command was killed");
});

test("dump -- COMMAND: stops at the first execve; a command that installs nothing, or is not there", (t) => {
  if (!needHost(t, "read-filters", READ_FILTERS_COVERED)) return;
  oneLine(cli("dump", "--", "true"), 3, "true has no seccomp filter at its first execve", "--until-filter");
  oneLine(cli("dump", "--until-filter", "--", "sh", "-c", "exit 7"), 3, "sh -c exit 7: exited with status 7 without installing a seccomp filter");
  oneLine(cli("dump", "--", "/nonexistent/cmd"), 1, "cannot run /nonexistent/cmd: not found");
  // --until-filter follows bin/syscage through its forks (sh, the native front door, Node) to the helper that loads the filter.
  ensureBuilt();
  const r = cli("dump", "--json", "--until-filter", "--", BIN, "run", "--routes=open", "--", "true");
  assert.equal(r.code, 0, r.err);
  const m = JSON.parse(r.out) as Manifest;
  assert.equal(m.stoppedAt, "filter");
  assert.equal(m.noNewPrivs, true);
  assert.deepEqual(
    m.filters.map((f) => Buffer.from(f.program!, "hex")),
    planLaunch({ routes: "open" }).programs.map((p) => Buffer.from(encodeProgram(p.insns))),
  );
});

test("dump of a real systemd-nspawn container: what an independent reader reads, proved equivalent to the installed nspawn policy", async (t) => {
  if (!needOracle(t, "systemd-nspawn", "cc", "seccomp-kernel", "python3-seccomp")) return;
  if (!needHost(t, "read-filters", READ_FILTERS_COVERED) || !x86Host(t)) return;
  const abis: readonly AbiName[] = ["x86_64", "x86", "x32"];
  const version = nspawnVersion();
  const table = installedNspawnTable(NSPAWN_ALLOW_LIST, version);
  const data = { groups: installedSyscallGroups(), table: table.rows, defaultCapabilities: NSPAWN_DEFAULT_RETAINED_CAPABILITIES };
  const facts = libseccompFacts(DEBIAN_PYTHON, Object.fromEntries(abis.map((a) => [a, syscallTable(a).map((e) => e.name)])));
  const helper = join(dumpHelperDir(), "dump-filters");
  await withNspawnPayload({}, (payload) => {
    const { manifest, files, dir } = dumpTo([String(payload)]);
    const independent = spawnSync(helper, ["pid", String(payload)], { encoding: "utf8" });
    assert.equal(independent.status, 0, independent.stderr);
    const theirs = parseDump(independent.stdout).map((f) => Buffer.from(f.bytes));
    assert.deepEqual(files, theirs, "byte-identical to dump-filters' read");
    assert.equal(manifest.filters.length, manifest.seccomp.filters, "every filter of Seccomp_filters");
    assert.ok(files.length >= 2, `nspawn installs several filters, got ${files.length}`);
    assert.deepEqual(manifest.cmdline, ["/syscage-test/dump-filters", "wait"]);
    // The stack as read proves equivalent to what this nspawn release should install (as test/prove.test.ts shows for the helper's dump).
    const policy: Policy = { ...nspawnDataPolicy(data, {}, abis), routes: "open" };
    const r = prove(files.map((b, i) => decodeProgram(new Uint8Array(b), `${dir}/${i}.bpf`)), installedNspawnReference(policy, facts));
    assert.ok(r.equivalent, `systemd-nspawn ${version}: ${JSON.stringify(r.counterexample, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`);
    // The CLI reads the same stack: the stats count every filter.
    const st = cli("stats", `pid:${payload}`, "--arch", "x86_64", "--json");
    assert.equal(st.code, 0, st.err);
    assert.equal((JSON.parse(st.out) as { abis: { instructions: number }[] }).abis[0]!.instructions, manifest.filters.reduce((n, f) => n + f.instructions, 0));
    // disasm | asm gives back every one of nspawn's filters (libseccomp's output).
    for (const b of files) {
      const insns = decodeProgram(new Uint8Array(b));
      assert.deepEqual(Buffer.from(encodeProgram(assemble(disassemble(insns, { arch: "x86_64" })))), b);
    }
    t.diagnostic(`systemd-nspawn ${version}: ${files.length} filters (${manifest.filters.map((f) => f.instructions).join(", ")} insns) dumped and proved equivalent`);
  });
  // The helper's own order check still holds (index 0 = oldest).
  assert.ok((await dumpNspawnFilters({})).filters.length >= 2);
});

test("no filter, a kernel thread, a vanished pid, a bad pid: one line and the documented status", () => {
  // No privilege needed for these: /proc tells.
  oneLine(cli("dump", String(process.pid)), 3, `pid ${process.pid} (`, "has no seccomp filter (Seccomp: 0");
  oneLine(cli("dump", "2"), 3, "pid 2 (kthreadd) is a kernel thread");
  const pidMax = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8"));
  oneLine(cli("dump", String(pidMax + 1)), 2, `pid ${pidMax + 1}: no such process`);
  const gone = spawnSync("true");
  assert.equal(gone.status, 0);
  if (!existsSync(`/proc/${gone.pid}`)) oneLine(cli("dump", String(gone.pid)), 2, "no such process");
  oneLine(cli("dump", "12abc"), 1, '"12abc" is not a process id');
  oneLine(cli("dump", "1", "2"), 1, "one PID, got 2 operands");
  oneLine(cli("dump"), 1, "give a PID");
  oneLine(cli("dump", "1", "--until-filter"), 1, "--until-filter applies to a command");
  oneLine(cli("prove", "pid:0"), 2, 'source pid:0: "0" is not a process id');
  oneLine(cli("stats", `pid:${pidMax + 1}`), 1, "no such process");
  const d = cli("diff", `pid:${pidMax + 1}`, "nspawn");
  assert.equal(d.code, 2, "diff's trouble status");
  assert.match(d.err, /^syscage: side A: pid \d+: no such process/);
});

test("no privilege: as nobody, and under seccomp: one line naming CAP_SYS_ADMIN, exit 4", async (t) => {
  if (!needRoot(t) || !needHost(t, "read-filters", READ_FILTERS_COVERED)) return;
  if (spawnSync("setpriv", ["--version"]).status !== 0) {
    if (REQUIRE_ORACLES) throw new Error("setpriv (util-linux) is required");
    t.skip("setpriv missing");
    return;
  }
  if (!checkoutReadableBy(NOBODY)) {
    process.stderr.write(`\n*** SKIPPED: the checkout ${ROOT} is not readable by uid ${NOBODY} ***\n`);
    t.skip("checkout not readable by nobody");
    return;
  }
  ensureBuilt();
  const asNobody = (...args: string[]) => {
    const r = spawnSync("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", process.execPath, ...CLI_NODE_ARGS, ...args], { cwd: ROOT, encoding: "utf8" });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  // nobody's own filtered process: it may trace it, but the kernel wants CAP_SYS_ADMIN to read the filter.
  const arg = uniqueSleep();
  start("setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", BIN, "run", "--", "sleep", arg]);
  const own = await findProcess(["sleep", arg], "2");
  oneLine(asNobody("dump", String(own)), 4, "needs CAP_SYS_ADMIN", "lacks CAP_SYS_ADMIN");
  oneLine(asNobody("prove", `pid:${own}`), 2, "needs CAP_SYS_ADMIN");
  // root's filtered process: nobody may not even trace it.
  const arg2 = uniqueSleep();
  start(BIN, ["run", "--", "sleep", arg2]);
  const roots = await findProcess(["sleep", arg2], "2");
  oneLine(asNobody("dump", String(roots)), 4, `not permitted to trace pid ${roots} (sleep) (uid 0)`, "CAP_SYS_ADMIN");
  // Root, but itself under seccomp: the kernel answers only an unfiltered tracer.
  const r = spawnSync(BIN, ["run", "--", process.execPath, ...CLI_NODE_ARGS, "dump", String(roots)], { cwd: ROOT, encoding: "utf8" });
  oneLine({ code: r.status, out: r.stdout, err: r.stderr }, 4, "itself under seccomp (Seccomp: 2)");
});

test("dump --help documents the exit statuses; spawnCli reaches the command", () => {
  const h = spawnCli(["dump", "--help"]);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /Exit status: 0 dumped; 1 bad usage or another error; 2 no such process;\n3 no filter/);
  assert.match(h.stdout, /4 not permitted/);
});
