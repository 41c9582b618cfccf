/**
 * `syscage audit` (src/analyze/audit.ts, issue #15): for every entry of the
 * catalogue a small filter that triggers it and the smallest change that
 * clears it; the defaults of Docker, Podman and nspawn and their findings
 * (as docs/audit.md lists them); a raw program audited as the policy it was
 * compiled from; waivers; the score; the command's text, JSON and SARIF
 * output (validated against the SARIF 2.1.0 schema from Microsoft's
 * package) and its exit statuses.
 */
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditPolicy, auditPrograms, parseHostKernel, type AuditOptions, type AuditResult } from "../src/analyze/audit.js";
import { AUDIT_CATALOGUE, entryWeight, exposureScore, SEVERITY_WEIGHTS } from "../src/analyze/audit-catalogue.js";
import { auditSarif, originLocation } from "../src/analyze/audit-sarif.js";
import { assemble } from "../src/bpf/asm.js";
import { compile } from "../src/compile/index.js";
import { SyscageError } from "../src/errors.js";
import { definePolicy, type PolicyInput } from "../src/policy/model.js";
import { NSPAWN_DEFAULT_CAPABILITIES, nspawnPolicy } from "../src/policy/nspawn.js";
import { DOCKER_DEFAULT_CAPABILITIES, parseProfile } from "../src/policy/oci.js";
import { generatedDoc } from "../scripts/gen-audit-doc.js";
import { VERSION } from "../src/version.js";
import { assertOneLineError, cli, ROOT } from "./helpers/cli.js";
import { sharedDataDir } from "./helpers/oracles.js";

const require = createRequire(import.meta.url);
const DIR = mkdtempSync(join(tmpdir(), "syscage-audit-"));
const TRIO = ["x86_64", "x86", "x32"] as const;

/** A policy with syscage's defaults for one ABI (x86_64), default ERRNO(EPERM). */
const P = (over: Partial<PolicyInput> = {}): PolicyInput => ({ default: "ERRNO(EPERM)", abis: ["x86_64"], ...over });

type Subject = { policy: PolicyInput; opts?: AuditOptions } | { program: string; opts?: AuditOptions };

function run(s: Subject): AuditResult {
  if ("program" in s) return auditPrograms([assemble(s.program, "case.s")], s.opts);
  return auditPolicy(definePolicy(s.policy), s.opts);
}
const ids = (r: AuditResult): string[] => r.findings.filter((f) => f.waived === undefined).map((f) => f.id);

const allow = (...syscall: string[]) => ({ syscall, action: "ALLOW" });

/** A naive x86_64 filter (as hand-written ones are): it never looks at bit 30 (x32). */
const NAIVE_X32 = (checked: boolean) => `
      ld [4]
      jne #AUDIT_ARCH_X86_64, kill
      ld [0]
${checked ? "      jge #X32_SYSCALL_BIT, kill\n" : ""}      jeq #mkdir, deny, ok
ok:   ret ALLOW
deny: ret ERRNO(1)
kill: ret KILL_PROCESS
`;

const CLONE_NEWUSER = 0x10000000;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;

/**
 * Each catalogue entry: a filter that triggers it, and the smallest change
 * that clears it. A new entry without a case fails the coverage test below.
 */
const CASES: Readonly<Record<string, { trigger: Subject; clear: Subject; note?: string }>> = {
  "route.io-uring": {
    trigger: { policy: P({ routes: "open", rules: [allow("io_uring_setup", "io_uring_enter")] }) },
    clear: { policy: P({ rules: [allow("io_uring_setup", "io_uring_enter")] }) },
    note: "routes closed (the default) closes the ring",
  },
  "route.socketcall": {
    trigger: { policy: P({ abis: ["x86"], routes: "open", rules: [allow("socketcall"), { syscall: "socket", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 1 }] }] }) },
    clear: { policy: P({ abis: ["x86"], routes: "open", rules: [{ syscall: "socket", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 1 }] }] }) },
  },
  "route.ipc": {
    trigger: { policy: P({ abis: ["x86"], rules: [allow("ipc")] }) },
    clear: { policy: P({ abis: ["x86"], rules: [allow("ipc", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semctl", "semtimedop", "semtimedop_time64", "shmget", "shmat", "shmdt", "shmctl")] }) },
  },
  "route.clone3": {
    trigger: { policy: P({ routes: "open", rules: [allow("clone3"), { syscall: "clone", action: "ALLOW", conditions: [{ arg: 0, op: "MASKED_EQ", mask: CLONE_NEWUSER, value: 0 }] }] }) },
    clear: { policy: P({ rules: [allow("clone3"), { syscall: "clone", action: "ALLOW", conditions: [{ arg: 0, op: "MASKED_EQ", mask: CLONE_NEWUSER, value: 0 }] }] }) },
  },
  "route.openat2": {
    trigger: { policy: P({ routes: "open", rules: [allow("openat2"), { syscall: "openat", action: "ALLOW", conditions: [{ arg: 2, op: "MASKED_EQ", mask: 3, value: 0 }] }] }) },
    clear: { policy: P({ rules: [allow("openat2"), { syscall: "openat", action: "ALLOW", conditions: [{ arg: 2, op: "MASKED_EQ", mask: 3, value: 0 }] }] }) },
  },
  "abi.compat-uncovered": {
    trigger: { policy: P({ badArch: "ALLOW", rules: [allow("read")] }) },
    clear: { policy: P({ rules: [allow("read")] }) },
  },
  "abi.bad-arch-permissive": {
    trigger: { policy: P({ abis: [...TRIO], badArch: "LOG", rules: [allow("read")] }) },
    clear: { policy: P({ abis: [...TRIO], rules: [allow("read")] }) },
  },
  "abi.x32-numbers": { trigger: { program: NAIVE_X32(false) }, clear: { program: NAIVE_X32(true) } },
  "abi.unknown-allowed": {
    trigger: { policy: P({ unknown: "ALLOW", rules: [allow("read")] }) },
    clear: { policy: P({ rules: [allow("read")] }) },
  },
  "abi.compat-surface": {
    trigger: { policy: P({ abis: ["x86_64", "x86"], rules: [allow("read")] }) },
    clear: { policy: P({ rules: [allow("read")] }) },
  },
  "args.high-bits": {
    trigger: { policy: P({ argumentWidth: "u64", rules: [{ syscall: "setuid", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 1000 }] }] }) },
    clear: { policy: P({ rules: [{ syscall: "setuid", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 1000 }] }] }) },
  },
  "args.pointer": {
    trigger: { policy: P({ rules: [{ syscall: "openat", action: "ALLOW", conditions: [{ arg: 1, op: "NE", value: 0 }] }] }) },
    clear: { policy: P({ rules: [{ syscall: "openat", action: "ALLOW", conditions: [{ arg: 2, op: "MASKED_EQ", mask: 3, value: 0 }] }] }) },
  },
  "args.masked-eq-outside-mask": {
    trigger: { policy: P({ rules: [{ syscall: "openat", action: "ALLOW", conditions: [{ arg: 2, op: "MASKED_EQ", mask: 0xf, value: 0x10 }] }] }) },
    clear: { policy: P({ rules: [{ syscall: "openat", action: "ALLOW", conditions: [{ arg: 2, op: "MASKED_EQ", mask: 0xf, value: 0x1 }] }] }) },
  },
  "args.truncated-constant": {
    trigger: { policy: P({ rules: [{ syscall: "setuid", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 0x100000000n }] }] }) },
    clear: { policy: P({ rules: [{ syscall: "setuid", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 0 }] }] }) },
  },
  "danger.tiocsti": {
    trigger: { policy: P({ rules: [allow("ioctl")] }) },
    clear: {
      policy: P({
        rules: [
          { syscall: "ioctl", action: "ALLOW" },
          { syscall: "ioctl", action: "ERRNO(EPERM)", conditions: [{ arg: 1, op: "EQ", value: TIOCSTI }] },
          { syscall: "ioctl", action: "ERRNO(EPERM)", conditions: [{ arg: 1, op: "EQ", value: TIOCLINUX }] },
        ],
      }),
    },
  },
  "danger.namespaces": {
    trigger: { policy: P({ rules: [allow("unshare")] }) },
    clear: { policy: P({ rules: [{ syscall: "unshare", action: "ALLOW", conditions: [{ arg: 0, op: "MASKED_EQ", mask: CLONE_NEWUSER, value: 0 }] }] }) },
  },
  "danger.personality": {
    trigger: { policy: P({ rules: [allow("personality")] }) },
    clear: { policy: P({ rules: [{ syscall: "personality", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 0 }] }] }) },
  },
  "action.trace": { trigger: { policy: P({ rules: [{ syscall: "getpid", action: "TRACE" }] }) }, clear: { policy: P({ rules: [allow("getpid")] }) } },
  "action.notify": { trigger: { policy: P({ rules: [{ syscall: "getpid", action: "USER_NOTIF" }] }) }, clear: { policy: P({ rules: [allow("getpid")] }) } },
  "action.kill-startup-probe": {
    trigger: { policy: P({ default: "KILL_PROCESS", rules: [allow("read")] }) },
    clear: { policy: P({ default: "KILL_PROCESS", rules: [allow("read"), { syscall: ["clone3", "rseq", "statx", "faccessat2", "openat2", "close_range", "io_uring_setup", "epoll_pwait2", "pidfd_open", "getrandom", "membarrier", "copy_file_range", "fchmodat2", "futex_waitv"], action: "ERRNO(ENOSYS)" }] }) },
  },
  "action.permissive-default": {
    trigger: { policy: P({ default: "ALLOW", unknown: "ERRNO(ENOSYS)", rules: [{ syscall: "mkdir", action: "ERRNO(EPERM)" }] }) },
    clear: { policy: P({ rules: [allow("read")] }) },
  },
  "kernel.ptrace-before-4.8": {
    trigger: { policy: P({ rules: [allow("ptrace")] }), opts: { hostKernel: [4, 4] } },
    clear: { policy: P({ rules: [allow("ptrace")] }), opts: { hostKernel: [4, 8] } },
  },
  "kernel.kill-process-before-4.14": {
    trigger: { policy: P({ rules: [allow("read")] }), opts: { hostKernel: [4, 9] } },
    clear: { policy: P({ badArch: "KILL_THREAD", rules: [allow("read")] }), opts: { hostKernel: [4, 9] } },
  },
};

/** The dangerous-call entries not above: allowing their calls triggers them, denying them clears them. */
function dangerCase(id: string): { trigger: Subject; clear: Subject } {
  const e = AUDIT_CATALOGUE.find((c) => c.id === id)!;
  const names = (e.syscalls ?? []).filter((n) => n !== "umount" && n !== "stime" && n !== "create_module" && n !== "clock_settime64");
  return { trigger: { policy: P({ rules: [allow(...names)] }) }, clear: { policy: P({ rules: [allow("read")] }) } };
}

describe("every catalogue entry: a filter that triggers it, the smallest change that clears it", () => {
  for (const e of AUDIT_CATALOGUE) {
    test(e.id, () => {
      const c = CASES[e.id] ?? (e.category === "danger" ? dangerCase(e.id) : undefined);
      assert.ok(c !== undefined, `${e.id} has no test case: add one to CASES`);
      const hit = run(c.trigger);
      const f = hit.findings.find((x) => x.id === e.id);
      assert.ok(f !== undefined, `${e.id} not found; got ${ids(hit).join(", ")}`);
      assert.equal(f.severity, e.severity);
      assert.equal(f.category, e.category);
      assert.ok(f.summary.length > 0 && f.why === e.why && f.fix.length > 0, "a summary, the why, a fix");
      assert.ok(!/\{(names|json|abis|list|count)\}/.test(f.summary + f.fix), `templates filled: ${f.summary} / ${f.fix}`);
      if (e.severity !== "info") assert.ok(hit.score > 0, "a finding that counts raises the score");
      const cleared = run(c.clear);
      assert.ok(!ids(cleared).includes(e.id), `${e.id} still found after the fix (${"note" in c && c.note !== undefined ? c.note : ""}): ${cleared.findings.find((x) => x.id === e.id)?.summary}`);
    });
  }
  test("the catalogue is data: unique ids, weights 0–10, severities' weights, references and fixes", () => {
    assert.equal(new Set(AUDIT_CATALOGUE.map((e) => e.id)).size, AUDIT_CATALOGUE.length);
    for (const e of AUDIT_CATALOGUE) {
      const w = entryWeight(e);
      assert.ok(w >= 0 && w <= 10, e.id);
      if (e.weight === undefined) assert.equal(w, SEVERITY_WEIGHTS[e.severity]);
      assert.ok(e.references.length > 0, `${e.id}: a reference`);
      assert.ok(e.fix.policy.length > 0, `${e.id}: a fix`);
    }
    for (const id of Object.keys(CASES)) assert.ok(AUDIT_CATALOGUE.some((e) => e.id === id), `case for an unknown id ${id}`);
  });
});

test("the finding carries its facts: ABIs, syscalls, the deciding rules, the fix in the source's language", () => {
  const p = definePolicy(P({ abis: ["x86_64", "x86"], rules: [{ syscall: ["read", "ptrace"], action: "ALLOW", origin: "my rule" }] }));
  const f = auditPolicy(p).findings.find((x) => x.id === "danger.ptrace")!;
  assert.deepEqual(f.abis, ["x86_64", "x86"]);
  assert.deepEqual(f.syscalls, ["ptrace"]);
  assert.deepEqual(f.origins, ["my rule"]);
  assert.equal(f.fix, '{"syscall": ["ptrace"], "action": "ERRNO(EPERM)"}');
  assert.equal(auditPolicy(p, { kind: "nspawn" }).findings.find((x) => x.id === "danger.ptrace")!.fix, '--system-call-filter="~ptrace"');
  assert.equal(auditPolicy(p, { kind: "unit" }).findings.find((x) => x.id === "danger.ptrace")!.fix, "SystemCallFilter=~ptrace");
});

test("a needed capability the process is known not to hold lowers the weight to a quarter", () => {
  const p = definePolicy(P({ rules: [allow("mount")] }));
  const unknown = auditPolicy(p).findings.find((f) => f.id === "danger.mount")!;
  const without = auditPolicy(p, { capabilities: new Set(["CAP_CHOWN"]) }).findings.find((f) => f.id === "danger.mount")!;
  const held = auditPolicy(p, { capabilities: new Set(["CAP_SYS_ADMIN"]) }).findings.find((f) => f.id === "danger.mount")!;
  assert.equal(unknown.weight, 6);
  assert.equal(without.weight, 1.5);
  assert.deepEqual(without.capability, { needs: unknown.capability!.needs, held: false });
  assert.equal(held.weight, 6);
  assert.equal(held.capability!.held, true);
});

test("the score: 0 with nothing, 10 × (1 − Π(1 − w/10)), rounded to a tenth; --threshold's labels", () => {
  assert.equal(exposureScore([]), 0);
  assert.equal(exposureScore([10]), 10);
  assert.equal(exposureScore([6]), 6);
  assert.equal(exposureScore([6, 6]), 8.4);
  assert.equal(exposureScore([3, 1]), 3.7);
  const r = auditPolicy(definePolicy(P({ rules: [allow("read")] })));
  assert.deepEqual(r.findings, []);
  assert.equal(r.score, 0);
  assert.equal(r.label, "PERFECT");
});

test("waivers: audit.waive with a reason; shown, not counted; an unknown id is an error with a suggestion; an unused waiver is a warning", () => {
  const base = P({ rules: [allow("ptrace", "bpf")] });
  const open = auditPolicy(definePolicy(base));
  const w = auditPolicy(definePolicy({ ...base, audit: { waive: [{ id: "danger.ptrace", reason: "the debugger in this sandbox" }] } }));
  const f = w.findings.find((x) => x.id === "danger.ptrace")!;
  assert.deepEqual(f.waived, { reason: "the debugger in this sandbox", waiver: 0 });
  assert.ok(w.score < open.score);
  assert.equal(w.score, exposureScore(w.findings.filter((x) => x.waived === undefined).map((x) => x.weight)));
  assert.equal(w.findings.at(-1)!.id, "danger.ptrace", "waived findings come last");
  assert.throws(
    () => auditPolicy(definePolicy({ ...base, audit: { waive: [{ id: "danger.ptrce", reason: "x" }] } })),
    (e: unknown) => e instanceof SyscageError && e.code === "BAD_WAIVER" && /danger\.ptrce/.test(e.message) && /Did you mean "danger\.ptrace"/.test(e.message),
  );
  const unused = auditPolicy(definePolicy({ ...base, audit: { waive: [{ id: "danger.kexec", reason: "x" }] } }));
  assert.ok(unused.warnings.some((m) => /danger\.kexec/.test(m)), unused.warnings.join("\n"));
  // By syscall: a waiver for ptrace does not waive a finding that also names process_vm_writev.
  const both = auditPolicy(definePolicy({ ...P({ rules: [allow("ptrace", "process_vm_writev")] }), audit: { waive: [{ id: "danger.ptrace", reason: "x", syscalls: ["ptrace"] }] } }));
  assert.equal(both.findings.find((x) => x.id === "danger.ptrace")!.waived, undefined);
});

test("--host-kernel: parsed strictly; io_uring, clone3 and openat2 only where they exist", () => {
  assert.deepEqual(parseHostKernel("5.10"), [5, 10]);
  assert.deepEqual(parseHostKernel("6.1.0-13-amd64"), [6, 1]);
  assert.throws(() => parseHostKernel("six"), /--host-kernel/);
  const ring = definePolicy(P({ routes: "open", rules: [allow("io_uring_setup", "io_uring_enter")] }));
  assert.ok(ids(auditPolicy(ring)).includes("route.io-uring"));
  assert.ok(!ids(auditPolicy(ring, { hostKernel: [4, 19] })).includes("route.io-uring"), "no io_uring before 5.1");
});

// ---- the defaults ------------------------------------------------------------------

/** The findings docs/audit.md lists for the defaults (its "The defaults" table). */
const DEFAULTS: Readonly<Record<string, readonly string[]>> = {
  "nspawn default": ["route.socketcall", "danger.ptrace", "danger.mount", "danger.namespaces", "danger.tiocsti", "danger.reboot", "danger.userfaultfd", "danger.keyring", "danger.personality", "abi.compat-surface"],
  "docker-default.json": ["route.socketcall", "danger.ptrace", "danger.tiocsti", "abi.compat-surface"],
  "podman-default.json": ["route.socketcall", "danger.ptrace", "danger.namespaces", "danger.tiocsti", "danger.mount", "danger.reboot", "danger.keyring", "danger.syslog", "abi.compat-surface"],
};

function profile(t: Parameters<typeof sharedDataDir>[0], name: string) {
  const dir = sharedDataDir(t);
  if (dir === null) return null;
  return parseProfile(readFileSync(join(dir, "profiles", name), "utf8"), name, { hostArch: "x86_64" }).policy;
}

describe("the defaults of nspawn, Docker and Podman", () => {
  test("nspawn default (x86_64, x86, x32): its findings; under a deny list the io_uring route too", () => {
    const r = auditPolicy(nspawnPolicy({ abis: [...TRIO] }), { kind: "nspawn", capabilities: new Set(NSPAWN_DEFAULT_CAPABILITIES) });
    assert.equal(r.findings.find((f) => f.id === "danger.mount")!.weight, 6, "nspawn keeps CAP_SYS_ADMIN");
    assert.deepEqual([...new Set(ids(r))].sort(), [...DEFAULTS["nspawn default"]!].sort());
    // The compat ABIs are covered (one filter each, as nspawn installs them).
    assert.deepEqual(r.findings.filter((f) => f.id === "abi.compat-surface").map((f) => f.abis[0]).sort(), ["x32", "x86"]);
    // nspawn's default capabilities hold CAP_SYS_ADMIN and CAP_SYS_BOOT.
    const deny = { ...nspawnPolicy({ abis: [...TRIO], systemCallFilter: ["~connect"] }), routes: "open" as const };
    const ring = auditPolicy(deny, { kind: "nspawn" }).findings.find((f) => f.id === "route.io-uring");
    assert.ok(ring !== undefined, "the nspawn default with ~connect leaves connect open through io_uring (routes as nspawn: open)");
    assert.ok(ring.syscalls.includes("connect"));
    assert.match(ring.fix, /--routes=closed/);
  });
  for (const name of ["docker-default.json", "podman-default.json"]) {
    test(`${name}: its findings; compat ABIs covered; the raw program gives the same findings`, (t) => {
      const p = profile(t, name);
      if (p === null) return;
      const r = auditPolicy(p, { kind: "profile", capabilities: new Set(DOCKER_DEFAULT_CAPABILITIES) });
      assert.deepEqual([...new Set(ids(r))].sort(), [...DEFAULTS[name]!].sort());
      for (const f of r.findings.filter((x) => x.id === "danger.mount" || x.id === "danger.reboot")) assert.equal(f.weight, 1.5, `${name}: ${f.id} without its capability`);
      assert.deepEqual(r.abis, [...TRIO]);
      assert.ok(!ids(r).includes("abi.compat-uncovered") && !ids(r).includes("abi.x32-numbers"), "x86 and x32 covered");
      const fromProgram = auditPrograms([compile(p).insns]);
      const key = (x: AuditResult) => x.findings.filter((f) => f.basis === "decisions").map((f) => [f.id, f.severity, f.abis, f.syscalls, f.summary, f.details]);
      assert.deepEqual(key(fromProgram), key(auditPolicy(p)));
      assert.equal(fromProgram.score, auditPolicy(p).score);
    });
  }
  test("docs/audit.md lists every catalogue entry and the defaults' findings as asserted here, and is current", (t) => {
    if (sharedDataDir(t) === null) return;
    const doc = readFileSync(join(ROOT, "docs", "audit.md"), "utf8");
    assert.equal(generatedDoc(doc), doc, "docs/audit.md is stale: run npx tsx scripts/gen-audit-doc.ts");
    for (const e of AUDIT_CATALOGUE) assert.ok(doc.includes(`\`${e.id}\``), `docs/audit.md lacks ${e.id}`);
    for (const [source, list] of Object.entries(DEFAULTS)) {
      const row = doc.split("\n").find((l) => l.startsWith(`| ${source} |`));
      assert.ok(row !== undefined, `docs/audit.md has no row for ${source}`);
      for (const id of list) assert.ok(row.includes(`\`${id}\``), `docs/audit.md's row for ${source} lacks ${id}`);
    }
  });
});

test("a raw program: same findings as its policy, for a random mix of rules (decisions basis)", () => {
  const mixes: PolicyInput[] = [
    P({ abis: [...TRIO], routes: "open", rules: [allow("io_uring_setup", "ptrace", "read", "socketcall"), { syscall: "socket", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 1 }] }] }),
    P({ default: "ALLOW", unknown: "ALLOW", abis: ["x86_64", "x86"], rules: [{ syscall: ["mkdir", "bpf"], action: "ERRNO(EACCES)" }, { syscall: "getpid", action: "TRACE" }] }),
    P({ abis: ["aarch64", "arm"], argumentWidth: "u64", rules: [{ syscall: "setuid", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 0 }] }, allow("kexec_load", "personality")] }),
  ];
  for (const m of mixes) {
    const p = definePolicy(m);
    const a = auditPolicy(p);
    const b = auditPrograms([compile(p).insns]);
    const key = (x: AuditResult) => x.findings.filter((f) => f.basis === "decisions").map((f) => [f.id, f.abis, f.syscalls, f.summary]);
    assert.deepEqual(key(b), key(a), JSON.stringify(m));
  }
});

// ---- the command ------------------------------------------------------------------

/** audit's trouble: exit 2 (as diff and check), otherwise as {@link assertOneLineError}. */
function trouble(r: { readonly code: number | null; readonly out: string; readonly err: string }, ...fragments: string[]): void {
  assert.equal(r.code, 2, `exit status; stderr: ${r.err}`);
  assertOneLineError({ ...r, code: 1 }, ...fragments);
}

function sarifValidator(): (doc: unknown) => { ok: boolean; errors: string } {
  const Ajv = require("ajv-draft-04") as typeof import("ajv-draft-04").default;
  const addFormats = require("ajv-formats") as typeof import("ajv-formats").default;
  const schema = require("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json") as object;
  // The published schema's `language` pattern is not a valid unicode-mode regular expression.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const v = ajv.compile(schema);
  return (doc) => ({ ok: v(doc) === true, errors: JSON.stringify(v.errors ?? []) });
}

describe("syscage audit", () => {
  const policyFile = join(DIR, "p.json");
  writeFileSync(
    policyFile,
    `{
  "default": "ERRNO(EPERM)",
  "abis": ["x86_64"],
  "rules": [
    {"syscalls": ["read", "write", "exit_group"], "action": "ALLOW"},
    {"syscall": "ptrace", "action": "ALLOW"},
    {"syscall": "bpf", "action": "ALLOW"}
  ],
  "audit": {"waive": [{"id": "danger.ptrace", "reason": "a debugger"}]}
}
`,
  );
  const unit = join(DIR, "app.service");
  writeFileSync(unit, "[Service]\nExecStart=/bin/true\nSystemCallFilter=@system-service\nSystemCallFilter=~@mount @keyring\n");

  test("text: the table worst first, the fixes, the score line; waived marked with the reason", () => {
    const r = cli("audit", policyFile);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split("\n");
    const bpf = lines.findIndex((l) => /danger\.bpf/.test(l));
    const ptrace = lines.findIndex((l) => /danger\.ptrace/.test(l));
    assert.ok(bpf > 0 && ptrace > bpf, "the waived finding after the counted one");
    assert.match(lines[ptrace]!, /waived: a debugger/);
    assert.match(r.out, /fixes:\n {2}danger\.bpf: \{"syscall": \["bpf"\], "action": "ERRNO\(EPERM\)"\}/);
    assert.match(r.out, /→ Overall exposure level for .*p\.json: 6\.0 MEDIUM\n$/);
  });

  test("--json: stable fields; --threshold exits 1 above, 0 at or below; exit 2 on trouble", () => {
    const j = cli("audit", policyFile, "--json", "--threshold", "5");
    assert.equal(j.code, 1, j.err);
    const doc = JSON.parse(j.out) as { source: string; kind: string; abis: string[]; score: number; label: string; threshold: number; above: boolean; findings: { id: string; waived?: unknown }[] };
    assert.deepEqual(Object.keys(doc).sort(), ["abis", "above", "findings", "kind", "label", "score", "source", "threshold", "warnings"]);
    assert.equal(doc.kind, "policy");
    assert.equal(doc.score, 6);
    assert.equal(doc.above, true);
    assert.deepEqual(doc.findings.map((f) => f.id), ["danger.bpf", "danger.ptrace"]);
    assert.equal(cli("audit", policyFile, "--threshold", "6").code, 0, "at the threshold passes");
    trouble(cli("audit", policyFile, "--threshold", "eleven"), "--threshold", "from 0 to 10");
    trouble(cli("audit", join(DIR, "nope.json")), "nope.json");
    const bad = join(DIR, "badwaiver.json");
    writeFileSync(bad, JSON.stringify({ abis: ["x86_64"], rules: [{ syscall: "ptrace", action: "ALLOW" }], audit: { waive: [{ id: "danger.ptrce", reason: "x" }] } }));
    trouble(cli("audit", bad), "badwaiver.json", "danger.ptrce", 'Did you mean "danger.ptrace"');
    trouble(cli("audit", policyFile, "--policy", policyFile), "both name the policy");
  });

  test("sources: nspawn options, a unit (capabilities known), a raw program, the catalogue", () => {
    const n = cli("audit", "--system-call-filter=~ptrace process_vm_writev process_vm_readv", "--json");
    assert.equal(n.code, 0, n.err);
    const nd = JSON.parse(n.out) as { kind: string; findings: { id: string; fix: string }[] };
    assert.equal(nd.kind, "nspawn");
    assert.ok(!nd.findings.some((f) => f.id === "danger.ptrace"));
    assert.match(nd.findings.find((f) => f.id === "danger.reboot")!.fix, /^--system-call-filter="~reboot"$/);
    const u = JSON.parse(cli("audit", unit, "--json").out) as { kind: string; findings: { id: string; fix: string; origins: string[] }[] };
    assert.equal(u.kind, "unit");
    assert.ok(!u.findings.some((f) => f.id === "danger.keyring"), "~@keyring clears it");
    assert.match(u.findings.find((f) => f.id === "danger.ptrace")!.fix, /^SystemCallFilter=~/);
    assert.ok(u.findings.find((f) => f.id === "danger.ptrace")!.origins.some((o) => o.endsWith("app.service:3)")));
    const bpf = join(DIR, "p.bpf");
    assert.equal(cli("compile", "--policy", policyFile, "-o", bpf).code, 0);
    const pr = JSON.parse(cli("audit", bpf, "--json").out) as { kind: string; findings: { id: string; waived?: unknown }[] };
    assert.equal(pr.kind, "program");
    assert.deepEqual(pr.findings.map((f) => [f.id, f.waived]).sort(), [["danger.bpf", undefined], ["danger.ptrace", undefined]], "a program has no waivers: both count");
    trouble(cli("audit", bpf, "--arch", "x86"), "cannot apply to a program");
    const cat = cli("audit", "--catalogue", "--json");
    assert.equal(cat.code, 0);
    assert.deepEqual((JSON.parse(cat.out) as { id: string }[]).map((e) => e.id), AUDIT_CATALOGUE.map((e) => e.id));
    assert.match(cli("audit", "--help").out, /Exit status: 0, 1 when the score is above --threshold, 2 trouble/);
  });

  test("--format sarif: valid SARIF 2.1.0 (Microsoft's schema), located at the rule's line, the unit's line; waivers as suppressions", () => {
    const validate = sarifValidator();
    type Sarif = { version: string; runs: { tool: { driver: { name: string; semanticVersion: string; rules: { id: string }[] } }; results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } }; logicalLocations?: { fullyQualifiedName: string }[] }[]; suppressions?: { justification: string }[] }[] }[] };
    const s = cli("audit", policyFile, "--format", "sarif");
    assert.equal(s.code, 0, s.err);
    const doc = JSON.parse(s.out) as Sarif;
    const v = validate(doc);
    assert.ok(v.ok, v.errors);
    assert.equal(doc.version, "2.1.0");
    assert.equal(doc.runs[0]!.tool.driver.semanticVersion, VERSION);
    const byId = new Map(doc.runs[0]!.results.map((r) => [r.ruleId, r]));
    const bpf = byId.get("danger.bpf")!;
    assert.equal(bpf.level, "error");
    assert.equal(bpf.locations[0]!.physicalLocation.region!.startLine, 7, "rules[2] is on line 7");
    assert.equal(bpf.locations[0]!.logicalLocations![0]!.fullyQualifiedName, "rules[2]");
    assert.ok(bpf.locations[0]!.physicalLocation.artifactLocation.uri.endsWith("p.json"));
    assert.deepEqual(byId.get("danger.ptrace")!.suppressions!.map((x) => x.justification), ["a debugger"]);
    assert.deepEqual(doc.runs[0]!.tool.driver.rules.map((r) => r.id).sort(), ["danger.bpf", "danger.ptrace"]);
    const u = JSON.parse(cli("audit", unit, "--format", "sarif").out) as Sarif;
    assert.ok(validate(u).ok, validate(u).errors);
    assert.equal(u.runs[0]!.results.find((r) => r.ruleId === "danger.ptrace")!.locations[0]!.physicalLocation.region!.startLine, 3);
    for (const args of [["--system-call-filter=~mkdir"], [join(DIR, "p.bpf")]]) {
      const o = JSON.parse(cli("audit", ...args, "--format", "sarif").out) as Sarif;
      assert.ok(validate(o).ok, `${args.join(" ")}: ${validate(o).errors}`);
    }
    trouble(cli("audit", policyFile, "--format", "xml"), "--format", "text, json, sarif");
    trouble(cli("audit", policyFile, "--json", "--format", "sarif"), "contradict");
  });

  test("SARIF locations of a Docker profile: each finding at its syscalls[N] entry's line", (t) => {
    const dir = sharedDataDir(t);
    if (dir === null) return;
    const file = join(dir, "profiles", "docker-default.json");
    const p = parseProfile(readFileSync(file, "utf8"), file, { hostArch: "x86_64" }).policy;
    const log = auditSarif({ result: auditPolicy(p, { kind: "profile" }), file, source: file, version: VERSION });
    const text = readFileSync(file, "utf8").split("\n");
    for (const r of log.runs[0]!.results!) {
      for (const l of r.locations ?? []) {
        const name = l.logicalLocations?.[0]?.fullyQualifiedName;
        if (name === undefined) continue;
        const line = l.physicalLocation!.region!.startLine!;
        assert.match(name, /^syscalls\[\d+\]$/);
        assert.match(text[line - 1]!, /\{/, `${r.ruleId}: line ${line} opens the entry ${name}`);
      }
    }
    assert.deepEqual(originLocation(`${file} syscalls[3]`, file), { path: ["syscalls", 3] });
    assert.deepEqual(originLocation(`SystemCallFilter=x (${file}:12)`, file), { line: 12 });
    assert.equal(originLocation("nspawn allow list: @ipc", file), undefined);
  });
});
