/**
 * systemd-nspawn's filter as a Policy: the effective default policy of the
 * research notes §2.6 (computed there from systemd's data, independently of
 * this code), capability gates, deny-list precedence with literal-name
 * exclusion (§2.3), the audit rule, per-ABI errno numbers, errors for bad
 * input, and that the single syscage program decides every call as nspawn's
 * two stacked filters do (checked with the kernel's stacking rule,
 * evaluateStack).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getAbi, type AbiName } from "../src/abi/arch.js";
import { CAP_LAST_CAP, capabilityNumber } from "../src/abi/capabilities.js";
import { syscallNumber, syscallTable } from "../src/abi/tables.js";
import { evaluateStack, interpret } from "../src/bpf/interpret.js";
import { compile } from "../src/compile/index.js";
import { decide, type Decision } from "../src/policy/evaluate.js";
import { expandItem } from "../src/policy/groups.js";
import { ALLOW, KILL_PROCESS, definePolicy, type Policy } from "../src/policy/model.js";
import {
  NSPAWN_AUDIT_ORIGIN,
  NSPAWN_DEFAULT_CAPABILITIES,
  nspawnCapabilities,
  nspawnFilterSets,
  nspawnPolicy,
  parseSystemCallFilterOption,
  type NspawnOptions,
} from "../src/policy/nspawn.js";
import { thrown } from "./helpers/errors.js";

const X86: readonly AbiName[] = ["x86_64", "x86", "x32"];

/** §2.6: the 152 names of @known that get EPERM with nspawn's default capabilities. */
const EPERM_DEFAULT_V260 =
  "_sysctl acct adjtimex afs_syscall arc_gettls arc_settls arc_usr_cmpxchg atomic_barrier atomic_cmpxchg_32 bdflush bpf break breakpoint cachectl clock_adjtime clock_adjtime64 clock_settime clock_settime64 create_module delete_module dipc exec_with_loader execv fanotify_init fanotify_mark finit_module ftime futex_requeue futex_wait futex_wake get_kernel_syms get_tls getdomainname getdtablesize gethostname getpagesize getpmsg getxgid getxpid getxuid gtty idle init_module ioperm iopl kern_features kexec_file_load kexec_load listns lock lookup_dcookie lsm_set_self_attr map_shadow_stack memfd_secret memory_ordering mlock mlock2 mlockall modify_ldt mpx multiplexer munlock munlockall old_adjtimex oldumount open_by_handle_at or1k_atomic osf_fstat osf_fstatfs osf_fstatfs64 osf_getdirentries osf_getdomainname osf_getitimer osf_getrusage osf_getsysinfo osf_gettimeofday osf_lstat osf_mount osf_proplist_syscall osf_select osf_set_program_attributes osf_setitimer osf_setsysinfo osf_settimeofday osf_shmat osf_sigprocmask osf_sigstack osf_stat osf_statfs osf_statfs64 osf_swapon osf_syscall osf_sysinfo osf_usleep_thread osf_utimes osf_utsname osf_wait4 pciconfig_iobase pciconfig_read pciconfig_write perf_event_open perfctr pidfd_getfd pkey_alloc pkey_free pkey_mprotect process_mrelease prof profil putpmsg query_module quotactl quotactl_fd rtas s390_guarded_storage s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr s390_sthyi sched_get_affinity sched_set_affinity security sethae setpgrp settimeofday sgetmask spu_create spu_run ssetmask stime stty subpage_prot swapoff swapon switch_endian sys_debug_setcontext syscall sysfs syslog sysmips timerfd tuxcall ulimit uprobe uselib usr26 usr32 ustat utrap_install vm86 vm86old vserver".split(
    " ",
  );

const strcmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const cap = (name: string): number => capabilityNumber(name)!;
const ERRNO = (n: number): number => (0x00050000 | n) >>> 0;
const RET_ALLOW = 0x7fff0000;

/** decide() for syscall `name` on `abi` with the given arguments. */
function call(policy: Policy, abi: AbiName, name: string, args: readonly bigint[] = []): Decision {
  const nr = syscallNumber(abi, name);
  assert.ok(nr !== undefined, `${name} on ${abi}`);
  return decide(policy, { arch: getAbi(abi).auditArch, nr, args });
}

/** Where a name ends up in the name sets: "ALLOW", "EPERM" or "ENOSYS". */
function fate(opts: NspawnOptions, name: string): string {
  const s = nspawnFilterSets(opts);
  if (s.allowed.has(name)) return "ALLOW";
  return s.denied.has(name) ? "EPERM" : "ENOSYS";
}

describe("nspawn default policy (v260, §2.6)", () => {
  test("default capabilities: 409 allowed names, the 152 EPERM names of §2.6", () => {
    const s = nspawnFilterSets();
    assert.equal(s.allowed.size, 409);
    assert.deepEqual([...s.denied.keys()].sort(strcmp), EPERM_DEFAULT_V260);
    // The two sets split @known; two allowed names (fstatat, newfstat) are outside it.
    const known = expandItem("@known");
    assert.equal(known.length, 559);
    assert.equal(known.filter((n) => s.allowed.has(n)).length, 559 - 152);
    assert.deepEqual([...s.allowed.keys()].filter((n) => !known.includes(n)).sort(strcmp), ["fstatat", "newfstat"]);
  });

  test("--capability=all: every gate on, 128 names of @known stay EPERM", () => {
    const s = nspawnFilterSets({ capability: ["all"] });
    assert.equal(s.denied.size, 128);
    for (const n of ["adjtimex", "settimeofday", "init_module", "ioperm", "iopl", "mlock", "acct", "syslog", "bpf"]) {
      assert.ok(s.allowed.has(n), n);
    }
  });

  test("retained capabilities: nspawn's 26 defaults; lists, all, private network, drop wins", () => {
    assert.equal(NSPAWN_DEFAULT_CAPABILITIES.length, 26);
    const def = nspawnCapabilities({});
    assert.deepEqual([...def].sort((a, b) => a - b), NSPAWN_DEFAULT_CAPABILITIES.map(cap).sort((a, b) => a - b));
    assert.ok(!def.has(cap("CAP_SYS_TIME")) && def.has(cap("CAP_SYS_BOOT")));
    const more = nspawnCapabilities({ capability: ["CAP_SYS_TIME,cap_syslog", "SYS_MODULE"] });
    for (const c of ["CAP_SYS_TIME", "CAP_SYSLOG", "CAP_SYS_MODULE"]) assert.ok(more.has(cap(c)), c);
    assert.equal(nspawnCapabilities({ capability: ["all"] }).size, CAP_LAST_CAP + 1);
    assert.ok(nspawnCapabilities({ privateNetwork: true }).has(cap("CAP_NET_ADMIN")));
    assert.ok(!def.has(cap("CAP_NET_ADMIN")));
    const dropped = nspawnCapabilities({ capability: ["CAP_SYS_TIME"], dropCapability: ["CAP_SYS_TIME,CAP_SYS_BOOT"], privateNetwork: true });
    assert.ok(!dropped.has(cap("CAP_SYS_TIME")) && !dropped.has(cap("CAP_SYS_BOOT")));
    assert.ok(!nspawnCapabilities({ privateNetwork: true, dropCapability: ["CAP_NET_ADMIN"] }).has(cap("CAP_NET_ADMIN")));
    assert.equal(nspawnCapabilities({ capability: ["all"], dropCapability: ["all"] }).size, 0);
  });

  test("capability gates add syscalls; dropping the capability takes them away", () => {
    assert.equal(fate({}, "reboot"), "ALLOW");
    assert.equal(nspawnFilterSets().allowed.get("reboot"), "gated by CAP_SYS_BOOT: reboot");
    assert.equal(fate({ dropCapability: ["CAP_SYS_BOOT"] }, "reboot"), "EPERM");
    assert.equal(nspawnFilterSets({ dropCapability: ["CAP_SYS_BOOT"] }).denied.get("reboot"), "not allowed, in @known");
    for (const n of expandItem("@clock")) {
      assert.equal(fate({}, n), "EPERM", n);
      assert.equal(fate({ capability: ["CAP_SYS_TIME"] }, n), "ALLOW", n);
    }
    assert.equal(nspawnFilterSets({ capability: ["CAP_SYS_TIME"] }).allowed.get("settimeofday"), "gated by CAP_SYS_TIME: @clock");
    assert.equal(fate({ capability: ["CAP_SYS_TIME"], dropCapability: ["CAP_SYS_TIME"] }, "settimeofday"), "EPERM");
    // A gate never removes what another row allows: process_vm_readv is also in @ipc.
    assert.equal(fate({ dropCapability: ["CAP_SYS_PTRACE"] }, "process_vm_readv"), "ALLOW");
    assert.equal(nspawnFilterSets().allowed.get("process_vm_readv"), "nspawn allow list: @ipc");
    assert.equal(fate({ dropCapability: ["CAP_SYS_PTRACE"] }, "ptrace"), "EPERM");
    assert.equal(fate({}, "bpf"), "EPERM");
    assert.equal(fate({ capability: ["CAP_BPF"] }, "bpf"), "ALLOW");
  });

  test("user allow list adds; origins name the row or option", () => {
    const s = nspawnFilterSets({ systemCallFilter: ["@pkey swapon"] });
    assert.equal(s.allowed.get("pkey_alloc"), "--system-call-filter=@pkey");
    assert.equal(s.allowed.get("swapon"), "--system-call-filter=swapon");
    assert.equal(s.allowed.get("openat"), "nspawn allow list: @file-system");
    assert.equal(s.allowed.get("read"), "nspawn allow list: @basic-io");
    assert.equal(s.denied.get("swapoff"), "not allowed, in @known");
  });

  test("the deny list wins over every allow item, by literal name at every level", () => {
    const s = nspawnFilterSets({ systemCallFilter: ["mkdir", "~mkdir"] });
    assert.equal(fate({ systemCallFilter: ["mkdir", "~mkdir"] }, "mkdir"), "EPERM");
    assert.equal(s.denied.get("mkdir"), "removed by --system-call-filter=~mkdir (deny lists take precedence)");
    assert.ok(s.allowed.has("mkdirat"));

    const sandbox = nspawnFilterSets({ systemCallFilter: ["~@sandbox"] });
    for (const n of ["seccomp", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self"]) {
      assert.equal(sandbox.denied.get(n), "removed by --system-call-filter=~@sandbox (deny lists take precedence)", n);
    }
    assert.ok(sandbox.allowed.has("execve"), "the rest of @default stays");

    // ~@clock removes the group, but an explicit allow of settimeofday is not that literal name.
    const clock = nspawnFilterSets({ capability: ["CAP_SYS_TIME"], systemCallFilter: ["~@clock", "settimeofday"] });
    assert.equal(clock.allowed.get("settimeofday"), "--system-call-filter=settimeofday");
    assert.equal(clock.denied.get("adjtimex"), "removed by --system-call-filter=~@clock (deny lists take precedence)");

    // §7: ~@default removes its tree; names the table also lists on their own stay allowed.
    const noDefault = nspawnFilterSets({ systemCallFilter: ["~@default"] });
    for (const n of ["execve", "exit", "exit_group", "mmap", "munmap", "rt_sigreturn", "seccomp"]) assert.ok(noDefault.denied.has(n), n);
    for (const n of ["brk", "getrandom", "mprotect", "sched_getaffinity", "sched_yield"]) assert.ok(noDefault.allowed.has(n), n);

    // A deny entry for something not allowed anyway changes nothing.
    assert.deepEqual([...nspawnFilterSets({ systemCallFilter: ["~swapon"] }).denied.keys()], [...nspawnFilterSets().denied.keys()]);
  });

  test("repeated values append; an empty value adds nothing", () => {
    const s = nspawnFilterSets({ systemCallFilter: ["swapon", "", "~mkdir", "@pkey", "~"] });
    assert.deepEqual(s.allowItems, ["swapon", "@pkey"]);
    assert.deepEqual(s.denyItems, ["mkdir"]);
  });
});

describe("parseSystemCallFilterOption", () => {
  test("a leading ~ makes the whole list a deny list; words split on whitespace", () => {
    assert.deepEqual(parseSystemCallFilterOption("", "x"), { deny: false, items: [] });
    assert.deepEqual(parseSystemCallFilterOption("~", "x"), { deny: true, items: [] });
    assert.deepEqual(parseSystemCallFilterOption("  read\twrite\n@clock ", "x"), { deny: false, items: ["read", "write", "@clock"] });
    assert.deepEqual(parseSystemCallFilterOption("~mkdir @swap", "x"), { deny: true, items: ["mkdir", "@swap"] });
    // Names that exist only on other ABIs, or only in systemd's data, are fine.
    assert.deepEqual(parseSystemCallFilterOption("arm_fadvise64_64 osf_stat", "x").items, ["arm_fadvise64_64", "osf_stat"]);
  });

  test("a ~ that is not the list's first character is an error", () => {
    for (const v of ["~@clock ~mkdir", "@clock ~mkdir", " ~mkdir"]) {
      const e = thrown(() => parseSystemCallFilterOption(v, `--system-call-filter="${v}"`));
      assert.equal(e.code, "BAD_FILTER_LIST", v);
      assert.match(e.message, /applies to the whole list and only as its first character/);
      assert.ok(e.message.startsWith(`--system-call-filter="${v}": `), e.message);
    }
  });

  test("unknown names are errors with suggestions, in allow and deny lists alike", () => {
    const g = thrown(() => parseSystemCallFilterOption("@clok", "w"));
    assert.equal(g.code, "UNKNOWN_GROUP");
    assert.deepEqual(g.suggestions, ["@clock"]);
    for (const v of ["mkdr", "~mkdr"]) {
      const e = thrown(() => parseSystemCallFilterOption(v, "w"));
      assert.equal(e.code, "UNKNOWN_SYSCALL", v);
      assert.ok(e.suggestions.includes("mkdir"), v);
      assert.match(e.message, /^w: unknown syscall "mkdr"/);
    }
    const bare = thrown(() => parseSystemCallFilterOption("~clock", "w"));
    assert.deepEqual(bare.suggestions, ["@clock"]);
    assert.match(bare.message, /group names start with @/);
  });

  test("nspawnPolicy reports bad options naming the option", () => {
    const e = thrown(() => nspawnPolicy({ systemCallFilter: ["@clock mkdr"], abis: X86 }));
    assert.match(e.message, /^--system-call-filter="@clock mkdr": unknown syscall "mkdr"/);
    const c = thrown(() => nspawnPolicy({ capability: ["CAP_SYS_TIM"], abis: X86 }));
    assert.equal(c.code, "UNKNOWN_CAPABILITY");
    assert.ok(c.message.startsWith("--capability=CAP_SYS_TIM: "), c.message);
    assert.ok(c.suggestions.includes("CAP_SYS_TIME"));
    const d = thrown(() => nspawnPolicy({ dropCapability: ["CAP_SYS_BOOT,nope"], abis: X86 }));
    assert.ok(d.message.startsWith("--drop-capability=CAP_SYS_BOOT,nope: "), d.message);
    assert.equal(thrown(() => nspawnCapabilities({ capability: ["help"] })).code, "UNKNOWN_CAPABILITY");
  });
});

describe("nspawnPolicy decisions (decide)", () => {
  const policy = nspawnPolicy({ abis: X86 });
  const AUDIT = [16n, 3n, 9n];

  test("shape: audit rule first, ENOSYS default and unknown, KILL_PROCESS for other arches", () => {
    assert.deepEqual(policy.abis, X86);
    assert.equal(policy.rules[0]!.origin, NSPAWN_AUDIT_ORIGIN);
    assert.equal(policy.rules[0]!.syscall, "socket");
    assert.deepEqual(policy.default.action, { kind: "ERRNO", errno: "ENOSYS" });
    assert.deepEqual(policy.unknown.action, { kind: "ERRNO", errno: "ENOSYS" });
    assert.deepEqual(policy.badArch.action, KILL_PROCESS);
    // One unconditional rule per name, never both ALLOW and EPERM; no rule for names no x86 ABI has.
    const seen = new Map<string, string>();
    for (const r of policy.rules.slice(1)) {
      assert.equal(r.conditions.length, 0);
      assert.ok(!seen.has(r.syscall), `two rules for ${r.syscall}`);
      seen.set(r.syscall, r.action.kind);
    }
    assert.ok(!seen.has("osf_stat") && !seen.has("arm_fadvise64_64") && !seen.has("fstatat"));
    assert.equal(seen.get("openat"), "ALLOW");
    assert.equal(seen.get("settimeofday"), "ERRNO");
  });

  test("audit sockets get EAFNOSUPPORT; other sockets are allowed", () => {
    for (const abi of X86) {
      const d = call(policy, abi, "socket", AUDIT);
      assert.equal(d.ret, ERRNO(97), abi);
      assert.equal(d.origin, NSPAWN_AUDIT_ORIGIN);
      assert.equal(call(policy, abi, "socket", [16n, 3n, 0n]).ret, RET_ALLOW, abi);
      assert.equal(call(policy, abi, "socket", [2n, 1n, 0n]).ret, RET_ALLOW, abi);
    }
  });

  test("with ~socket: audit sockets still EAFNOSUPPORT, other sockets EPERM", () => {
    const p = nspawnPolicy({ abis: X86, systemCallFilter: ["~socket"] });
    assert.equal(call(p, "x86_64", "socket", AUDIT).ret, ERRNO(97));
    const d = call(p, "x86_64", "socket", [2n, 1n, 0n]);
    assert.equal(d.ret, ERRNO(1));
    assert.equal(d.origin, "removed by --system-call-filter=~socket (deny lists take precedence)");
  });

  test("three outcomes: allowed → ALLOW, known → EPERM, newer than @known → ENOSYS", () => {
    assert.equal(call(policy, "x86_64", "openat").ret, RET_ALLOW);
    assert.equal(call(policy, "x86_64", "openat").origin, "nspawn allow list: @file-system");
    assert.equal(call(policy, "x86", "reboot").ret, RET_ALLOW);
    const st = call(policy, "x86_64", "settimeofday");
    assert.equal(st.ret, ERRNO(1));
    assert.equal(st.origin, "not allowed, in @known");
    for (const name of ["fchroot", "rseq_slice_yield", "nfsservctl"]) {
      const d = call(policy, "x86_64", name);
      assert.equal(d.ret, ERRNO(38), name);
      assert.equal(d.reason, "default", name);
    }
    assert.equal(decide(policy, { arch: getAbi("x86_64").auditArch, nr: 4000, args: [] }).ret, ERRNO(38));
    assert.equal(decide(policy, { arch: getAbi("aarch64").auditArch, nr: 63, args: [] }).ret, 0x80000000);
  });

  test("errno names resolve per ABI (MIPS: EAFNOSUPPORT 124, ENOSYS 89)", () => {
    const p = nspawnPolicy({ abis: ["mips"] });
    assert.equal(call(p, "mips", "socket", AUDIT).ret, ERRNO(124));
    assert.equal(call(p, "mips", "fchroot").ret, ERRNO(89));
    assert.equal(call(p, "mips", "swapon").ret, ERRNO(1));
  });

  test("a syscall the user names directly keeps its rule even where it does not exist (compile warns)", () => {
    const p = nspawnPolicy({ abis: ["x86_64"], systemCallFilter: ["s390_runtime_instr @pkey"] });
    const r = p.rules.find((x) => x.syscall === "s390_runtime_instr");
    assert.equal(r?.origin, "--system-call-filter=s390_runtime_instr");
    assert.ok(compile(p).warnings.some((w) => w.includes("s390_runtime_instr")));
    assert.ok(!p.rules.some((x) => x.syscall === "pkey_alloc" && x.action.kind !== "ALLOW"));
  });
});

describe("one program = nspawn's two stacked filters", () => {
  /** nspawn's second filter: ALLOW everything except audit sockets. */
  const auditFilter = compile(
    definePolicy({
      abis: X86,
      default: ALLOW,
      unknown: ALLOW,
      rules: [{ syscall: "socket", action: "ERRNO(EAFNOSUPPORT)", conditions: [{ arg: 0, op: "EQ", value: 16 }, { arg: 2, op: "EQ", value: 9 }] }],
    }),
  ).insns;
  const argSets: readonly (readonly bigint[])[] = [[16n, 3n, 9n], [16n, 3n, 0n], [2n, 1n, 0n], [0n, 0n, 0n]];

  for (const opts of [{}, { systemCallFilter: ["~socket"] }, { systemCallFilter: ["~@network-io"], capability: ["all"] }] as NspawnOptions[]) {
    test(`every syscall of x86_64, x86, x32: ${JSON.stringify(opts)}`, () => {
      const combined = nspawnPolicy({ ...opts, abis: X86 });
      const first = compile({ ...combined, rules: combined.rules.filter((r) => r.origin !== NSPAWN_AUDIT_ORIGIN) }).insns;
      const program = compile(combined).insns;
      let checked = 0;
      let eafnosupport = 0;
      for (const abi of X86) {
        const arch = getAbi(abi).auditArch;
        const nrs = [...syscallTable(abi).map((e) => e.nr), abi === "x32" ? 0x40000000 + 999 : 999];
        for (const nr of nrs) {
          for (const args of argSets) {
            const data = { arch, nr, instructionPointer: 0n, args };
            const stacked = evaluateStack([first, auditFilter], data, "little").ret >>> 0;
            const want = decide(combined, data).ret >>> 0;
            assert.equal(want, stacked, `${abi} nr ${nr} args ${args.join(",")}: policy vs nspawn's stack`);
            assert.equal(interpret(program, data, "little").ret >>> 0, want, `${abi} nr ${nr}: program vs policy`);
            if (want === ERRNO(97)) eafnosupport++;
            checked++;
          }
        }
      }
      assert.ok(checked > 3000);
      assert.equal(eafnosupport, 3, "exactly socket(AF_NETLINK, *, NETLINK_AUDIT) on each ABI");
    });
  }
});
