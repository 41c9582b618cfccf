/**
 * systemd's syscall groups: the invariants systemd's own test-seccomp.c
 * enforces on the data, the expansion rules of seccomp_add_syscall_filter_item
 * (literal-name exclusion at every level), the figures of the research notes
 * (§1.2 expanded counts, §1.4 ungrouped names), and that the committed
 * generated file matches the shared JSON data.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { knownSyscallNames } from "../src/abi/tables.js";
import {
  SYSTEMD_DATA_VERSION,
  expandItem,
  getGroup,
  parseGroup,
  syscallGroups,
  ungroupedSyscalls,
  walkItem,
} from "../src/policy/groups.js";
import { thrown } from "./helpers/errors.js";
import { sharedDataDir } from "./helpers/oracles.js";
import { OUTPUT_FILE, REPO_ROOT, generate } from "../scripts/gen-systemd.js";

/** strcmp order (the names are ASCII). */
const strcmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * systemd group members that exist on no ABI syscage has tables for, with the
 * reason (which kernel table has them, per ../shared/data/linux-syscalls).
 */
const NOT_IN_OUR_TABLES: Readonly<Record<string, string>> = (() => {
  const m: Record<string, string> = {};
  const alpha = "alpha only (alpha-syscall.tbl); syscage has no alpha ABI";
  const sparc = "sparc only (sparc-syscall.tbl); syscage has no sparc ABI";
  for (const n of [
    "dipc", "exec_with_loader", "getdtablesize", "gethostname", "getxgid", "getxpid", "getxuid", "old_adjtimex",
    "oldumount", "sethae", "setpgrp",
    "osf_fstat", "osf_fstatfs", "osf_fstatfs64", "osf_getdirentries", "osf_getdomainname", "osf_getitimer",
    "osf_getrusage", "osf_getsysinfo", "osf_gettimeofday", "osf_lstat", "osf_mount", "osf_proplist_syscall",
    "osf_select", "osf_set_program_attributes", "osf_setitimer", "osf_setsysinfo", "osf_settimeofday", "osf_shmat",
    "osf_sigprocmask", "osf_sigstack", "osf_stat", "osf_statfs", "osf_statfs64", "osf_swapon", "osf_syscall",
    "osf_sysinfo", "osf_usleep_thread", "osf_utimes", "osf_utsname", "osf_wait4",
  ]) m[n] = alpha;
  for (const n of ["execv", "getdomainname", "kern_features", "memory_ordering", "perfctr", "sched_get_affinity", "sched_set_affinity", "utrap_install"]) m[n] = sparc;
  for (const n of ["arc_gettls", "arc_settls", "arc_usr_cmpxchg"]) m[n] = "ARC only (generic-syscall.tbl, abi arc); syscage has no ARC ABI";
  m.or1k_atomic = "OpenRISC only (generic-syscall.tbl, abi or1k); syscage has no OpenRISC ABI";
  m.llseek = "generic 32-bit ABIs only (generic-syscall.tbl, abi 32: riscv32, csky, …), none of which syscage has";
  m.fstatat = "in no kernel table (the kernel calls it newfstatat/fstatat64); systemd lists it in @file-system, not in @known";
  m.newfstat = "in no kernel table (the kernel's internal name of fstat); systemd lists it in @file-system, not in @known";
  return m;
})();

/** §1.2 of the research notes: unique syscalls after recursive expansion. */
const EXPANDED_COUNTS: Readonly<Record<string, number>> = {
  "@default": 70, "@aio": 10, "@basic-io": 18, "@chown": 7, "@clock": 6, "@cpu-emulation": 5, "@debug": 7,
  "@file-system": 88, "@io-event": 17, "@ipc": 28, "@keyring": 3, "@memlock": 5, "@module": 3, "@mount": 12,
  "@network-io": 22, "@obsolete": 27, "@pkey": 3, "@privileged": 53, "@process": 22, "@raw-io": 7, "@reboot": 3,
  "@resources": 13, "@sandbox": 4, "@setuid": 14, "@signal": 14, "@swap": 2, "@sync": 7, "@system-service": 395,
  "@timer": 16, "@known": 559,
};

/** §1.4 of the research notes: the 81 ungrouped names. */
const UNGROUPED_V260 =
  "arc_gettls arc_settls arc_usr_cmpxchg atomic_barrier atomic_cmpxchg_32 breakpoint cachectl cachestat dipc exec_with_loader execv futex_requeue futex_wait futex_wake get_tls getdomainname getdtablesize gethostname getpagesize getxgid getxpid getxuid kern_features listns lsm_set_self_attr map_shadow_stack memfd_secret memory_ordering mincore multiplexer old_adjtimex oldumount or1k_atomic osf_fstat osf_fstatfs osf_fstatfs64 osf_getdirentries osf_getdomainname osf_getitimer osf_getrusage osf_getsysinfo osf_gettimeofday osf_lstat osf_mount osf_proplist_syscall osf_select osf_set_program_attributes osf_setitimer osf_setsysinfo osf_settimeofday osf_shmat osf_sigprocmask osf_sigstack osf_stat osf_statfs osf_statfs64 osf_swapon osf_syscall osf_sysinfo osf_usleep_thread osf_utimes osf_utsname osf_wait4 perfctr process_mrelease s390_guarded_storage s390_sthyi sched_get_affinity sched_set_affinity sethae setpgrp spu_create spu_run syscall syslog sysmips timerfd uprobe usr26 usr32 utrap_install".split(
    " ",
  );

describe("group data (systemd v260)", () => {
  const groups = syscallGroups();

  test("30 groups, @default first, @known last, the rest strictly ascending", () => {
    assert.equal(SYSTEMD_DATA_VERSION, "v260");
    assert.equal(groups.length, 30);
    assert.equal(groups[0]!.name, "@default");
    assert.equal(groups[groups.length - 1]!.name, "@known");
    const middle = groups.slice(1, -1).map((g) => g.name);
    for (let i = 1; i < middle.length; i++) assert.ok(strcmp(middle[i - 1]!, middle[i]!) < 0, `${middle[i - 1]} before ${middle[i]}`);
    for (const g of groups) {
      assert.match(g.name, /^@[a-z-]+$/);
      assert.ok(g.help.length > 0, `${g.name} has no help`);
      assert.equal(getGroup(g.name), g);
    }
  });

  test("members: @refs first, then syscall names, each part strictly ascending (systemd's filter_sets_ordered)", () => {
    for (const g of groups) {
      const refs = g.members.filter((m) => m.startsWith("@"));
      assert.deepEqual(g.members.slice(0, refs.length), refs, `${g.name}: @refs must come first`);
      const names = g.members.slice(refs.length);
      for (const part of [refs, names]) {
        for (let i = 1; i < part.length; i++) assert.ok(strcmp(part[i - 1]!, part[i]!) < 0, `${g.name}: ${part[i - 1]} before ${part[i]} (sorted, no duplicates)`);
      }
      assert.ok(names.every((n) => /^[a-z_][a-z0-9_]*$/.test(n)), `${g.name}: odd syscall name`);
    }
  });

  test("every @ref names a group, and the reference graph has no cycle", () => {
    const state = new Map<string, "visiting" | "done">();
    const visit = (name: string, chain: string[]): void => {
      const g = getGroup(name);
      assert.ok(g !== undefined, `${chain.join(" → ")} refers to unknown ${name}`);
      assert.notEqual(state.get(name), "visiting", `cycle: ${[...chain, name].join(" → ")}`);
      if (state.get(name) === "done") return;
      state.set(name, "visiting");
      for (const m of g.members) if (m.startsWith("@")) visit(m, [...chain, name]);
      state.set(name, "done");
    };
    for (const g of groups) visit(g.name, []);
    assert.equal(state.size, 30);
  });

  test("every syscall name exists on some ABI, or is a listed exception with a reason", () => {
    const known = knownSyscallNames();
    const missing = new Set<string>();
    for (const g of groups) for (const m of g.members) if (!m.startsWith("@") && !known.has(m)) missing.add(m);
    assert.deepEqual([...missing].sort(strcmp), Object.keys(NOT_IN_OUR_TABLES).sort(strcmp), "exception list is stale or incomplete");
  });

  test("@known holds every other group's syscalls except fstatat, newfstat, nfsservctl (§1.2)", () => {
    const known = new Set(expandItem("@known"));
    const outside = new Set<string>();
    for (const g of groups) if (g.name !== "@known") for (const n of expandItem(g.name)) if (!known.has(n)) outside.add(n);
    assert.deepEqual([...outside].sort(strcmp), ["fstatat", "newfstat", "nfsservctl"]);
  });

  test("expanded sizes match the research notes' table (§1.2)", () => {
    for (const g of groups) assert.equal(expandItem(g.name).length, EXPANDED_COUNTS[g.name], g.name);
    assert.equal(getGroup("@known")!.members.length, 538);
  });

  test("ungrouped syscalls: the 81 names of §1.4, sorted", () => {
    assert.deepEqual(ungroupedSyscalls(), UNGROUPED_V260);
  });

  test("the committed generated file is what scripts/gen-systemd.ts makes from the shared data", (t) => {
    const shared = sharedDataDir(t);
    if (shared === null) return;
    const committed = readFileSync(path.join(REPO_ROOT, OUTPUT_FILE), "utf8");
    assert.equal(committed, generate(path.dirname(shared)), `${OUTPUT_FILE} is stale; run npx tsx scripts/gen-systemd.ts`);
    assert.ok(committed.startsWith("// generated by scripts/gen-systemd.ts — do not edit"));
    const json = JSON.parse(readFileSync(path.join(shared, "systemd/syscall-sets-v260.json"), "utf8")) as Record<string, { help: string; members: string[] }>;
    assert.deepEqual(
      syscallGroups().map((g) => [g.name, g.help, [...g.members]]),
      Object.entries(json).map(([n, v]) => [n, v.help, v.members]),
    );
  });
});

describe("expansion (seccomp_add_syscall_filter_item)", () => {
  test("nested groups expand at any depth, deduplicated, in first-seen order", () => {
    const ss = expandItem("@system-service");
    assert.equal(new Set(ss).size, ss.length);
    assert.deepEqual(ss.slice(0, 10), getGroup("@aio")!.members, "@aio is @system-service's first member");
    assert.ok(ss.includes("seccomp"), "@system-service → @default → @sandbox → seccomp");
    // close is in @basic-io and @file-system: listed once, where first seen (in @basic-io).
    assert.equal(ss.filter((n) => n === "close").length, 1);
    assert.ok(ss.indexOf("close") < ss.indexOf("chown"));
    assert.deepEqual(expandItem("read"), ["read"], "a syscall expands to itself");
  });

  test("a group name in the exclusion list is skipped wherever it is referenced", () => {
    const priv = expandItem("@privileged", new Set(["@clock"]));
    for (const n of getGroup("@clock")!.members) assert.ok(!priv.includes(n), `${n} came through @clock`);
    assert.equal(priv.length, 53 - 6);
    const ss = expandItem("@system-service", new Set(["@sandbox"]));
    assert.ok(!ss.includes("seccomp") && !ss.includes("landlock_create_ruleset"), "@sandbox removed two levels down");
    assert.ok(ss.includes("execve"), "the rest of @default stays");
    assert.deepEqual(expandItem("@clock", new Set(["@clock"])), []);
  });

  test("a syscall name in the exclusion list is skipped at every depth; other names stay", () => {
    const priv = expandItem("@privileged", new Set(["settimeofday", "chown"]));
    assert.ok(!priv.includes("settimeofday") && !priv.includes("chown"));
    assert.ok(priv.includes("adjtimex") && priv.includes("fchown"));
  });

  test("exclusion is literal, not set-based: excluding @default keeps what @system-service lists itself", () => {
    const ss = expandItem("@system-service", new Set(["@default"]));
    assert.ok(!ss.includes("execve") && !ss.includes("exit_group") && !ss.includes("seccomp"));
    // capget is in @process (reached directly from @system-service), not via @default.
    assert.ok(ss.includes("capget"));
    // excluding @basic-io does not remove close: @file-system lists it too.
    const noBasic = expandItem("@system-service", new Set(["@basic-io"]));
    assert.ok(noBasic.includes("close") && !noBasic.includes("pwritev2"));
  });

  test("walkItem reports each syscall with the chain of groups, and each excluded item", () => {
    const seen: string[] = [];
    const excluded: string[] = [];
    walkItem(
      "@default",
      new Set(["seccomp"]),
      (n, p) => {
        if (n === "landlock_add_rule") seen.push(`${p.join(">")}:${n}`);
      },
      (item, p) => excluded.push(`${p.join(">")}:${item}`),
    );
    assert.deepEqual(seen, ["@default>@sandbox:landlock_add_rule"]);
    assert.deepEqual(excluded, ["@default>@sandbox:seccomp"]);
  });

  test("unknown groups are errors with suggestions", () => {
    const e = thrown(() => expandItem("@clok"));
    assert.equal(e.code, "UNKNOWN_GROUP");
    assert.deepEqual(e.suggestions, ["@clock"]);
    const bare = thrown(() => parseGroup("clock", "argument 1"));
    assert.deepEqual(bare.suggestions, ["@clock"]);
    assert.match(bare.message, /^argument 1: unknown syscall group "clock"\. Group names start with @\. Did you mean "@clock"\?/);
    assert.equal(thrown(() => parseGroup("@Clock", "x")).code, "UNKNOWN_GROUP", "names are case-sensitive");
    assert.equal(parseGroup("@clock", "x").name, "@clock");
  });
});
