/**
 * The catalogue of `syscage audit`: every finding it can report, as data —
 * an id, a severity and the weight the score gives it, what it is computed
 * from, why it matters (for a person, with references: CVEs, kernel and man
 * pages, upstream issues) and the fix as the policy line or option to write.
 * The checks themselves are in src/analyze/audit.ts; docs/audit.md lists
 * this table. A new check is a new entry here and a function there.
 *
 * Fix templates: `{names}` is the finding's syscalls separated by spaces,
 * `{json}` the same as a JSON list of strings, `{abis}` its ABIs
 * (comma-separated, as --arch takes them).
 */

/** How bad a finding is. */
export type Severity = "critical" | "high" | "medium" | "low" | "info";

/** Severity order, worst first. */
export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low", "info"];

/** The weight (0–10) of a severity; an entry may set its own. See {@link exposureScore}. */
export const SEVERITY_WEIGHTS: Readonly<Record<Severity, number>> = Object.freeze({ critical: 9, high: 6, medium: 3, low: 1, info: 0 });

/** What kind of problem. */
export type Category = "route" | "abi" | "argument" | "danger" | "action" | "kernel";

/**
 * What a finding is computed from: "decisions" — what the filter returns,
 * so a raw program gives the same finding as its policy; "rules" — how the
 * policy is written (a condition that can never hold, a constant the kernel
 * truncates), which a compiled program no longer shows.
 */
export type Basis = "decisions" | "rules";

/** The fix in the language of each source. */
export interface FixTemplates {
  /** A syscage JSON policy line (rule, or top-level field). */
  readonly policy: string;
  /** systemd-nspawn options. */
  readonly nspawn?: string;
  /** Unit file lines. */
  readonly unit?: string;
  /** OCI / Docker / Podman profile. */
  readonly profile?: string;
}

/** One kind of finding. */
export interface CatalogueEntry {
  readonly id: string;
  readonly title: string;
  readonly category: Category;
  readonly severity: Severity;
  /** 0–10; default {@link SEVERITY_WEIGHTS}[severity]. */
  readonly weight?: number;
  readonly basis: Basis;
  /** Why it matters, for a person. */
  readonly why: string;
  readonly references: readonly string[];
  readonly fix: FixTemplates;
  /** Dangerous calls: the syscalls of the group. */
  readonly syscalls?: readonly string[];
  /** Dangerous calls: what the calls give an attacker. */
  readonly gives?: string;
  /** Dangerous calls: the capability the calls need ("none" when an unprivileged process can make them). */
  readonly capability?: string;
}

/** The weight of a finding whose capability the process is known not to hold: it is the filter's second line of defence. */
export const WITHOUT_CAPABILITY_FACTOR = 0.25;

const DENY_FIX: FixTemplates = {
  policy: '{"syscall": {json}, "action": "ERRNO(EPERM)"}',
  nspawn: '--system-call-filter="~{names}"',
  unit: "SystemCallFilter=~{names}",
  profile: "remove {names} from the profile's SCMP_ACT_ALLOW entries",
};

const danger = (id: string, title: string, severity: Severity, syscalls: readonly string[], gives: string, capability: string, why: string, references: readonly string[]): CatalogueEntry =>
  Object.freeze({ id, title, category: "danger", severity, basis: "decisions", syscalls: Object.freeze([...syscalls]), gives, capability, why, references: Object.freeze([...references]), fix: DENY_FIX });

/** Every finding `audit` can report, in the order docs/audit.md lists them. */
export const AUDIT_CATALOGUE: readonly CatalogueEntry[] = Object.freeze([
  // ---- routes around denied calls -------------------------------------------------------
  {
    id: "route.io-uring",
    title: "io_uring performs calls the filter denies",
    category: "route",
    severity: "high",
    basis: "decisions",
    why: "A ring performs operations (socket, connect, openat, mkdirat, …) inside the kernel without a syscall the filter sees: seccomp only sees io_uring_setup, io_uring_enter and io_uring_register. While they are allowed, denying or restricting a call that an opcode performs does not stop it.",
    references: [
      "io_uring(7); include/uapi/linux/io_uring.h (opcodes and the release of each)",
      "Google security blog, \"Learnings from kCTF VRP's 42 Linux kernel exploits submissions\" (2023): io_uring in 60% of them; disabled in ChromeOS, Android and Google's servers",
      "moby/moby PR #46762: io_uring removed from Docker's default profile",
    ],
    fix: {
      policy: '"routes": "closed" (syscage\'s default), or {"syscall": ["io_uring_setup", "io_uring_enter", "io_uring_register"], "action": "ERRNO(EPERM)"}',
      nspawn: "--routes=closed (syscage's default), or --system-call-filter=\"~io_uring_setup io_uring_enter io_uring_register\"",
      unit: "SystemCallFilter=~io_uring_setup io_uring_enter io_uring_register",
      profile: '{"names": ["io_uring_setup", "io_uring_enter", "io_uring_register"], "action": "SCMP_ACT_ERRNO"}, or remove them from the SCMP_ACT_ALLOW entries',
    },
  },
  {
    id: "route.socketcall",
    title: "socketcall allows what the direct socket call restricts",
    category: "route",
    severity: "high",
    basis: "decisions",
    why: "On ABIs with socketcall (i386, s390, ppc, mips o32, …) every socket operation can also be made as socketcall(SYS_…, args), whose arguments sit behind a pointer the filter cannot read. A check on socket()'s family (or a deny of connect) does not hold for socketcall.",
    references: ["socketcall(2)", "Linux 4.3: direct socket syscalls on i386; socketcall stays in the table", "docs/semantics.md, \"Closed routes\""],
    fix: {
      policy: '{"syscall": "socketcall", "action": "ERRNO(EPERM)"} (with "network": false syscage denies socketcall\'s SYS_SOCKET itself)',
      nspawn: '--system-call-filter="~socketcall" (or --deny-network)',
      unit: "SystemCallFilter=~socketcall",
      profile: "remove socketcall from the SCMP_ACT_ALLOW entries",
    },
  },
  {
    id: "route.ipc",
    title: "ipc allows what the direct System V IPC call restricts",
    category: "route",
    severity: "medium",
    basis: "decisions",
    why: "On ABIs with ipc (i386, s390, ppc, mips o32, …) semop, shmat, msgsnd and the rest can also be made as ipc(call, …), whose arguments the direct call's checks never see.",
    references: ["ipc(2)", "docs/semantics.md, \"Closed routes\""],
    fix: {
      policy: '{"syscall": "ipc", "action": "ERRNO(EPERM)"}',
      nspawn: '--system-call-filter="~ipc"',
      unit: "SystemCallFilter=~ipc",
      profile: "remove ipc from the SCMP_ACT_ALLOW entries",
    },
  },
  {
    id: "route.clone3",
    title: "clone3 allowed while clone's flags are restricted",
    category: "route",
    severity: "high",
    basis: "decisions",
    why: "clone3 takes clone's flags in a struct (struct clone_args) that no filter can read: while it is allowed, a check on clone's flags (no CLONE_NEWUSER, no CLONE_NEWNS…) does not hold. Return ENOSYS for clone3 so that libc falls back to clone, whose flags the filter checks.",
    references: ["clone3(2) (Linux 5.3)", "moby/moby#42680 (clone3 gets ENOSYS in Docker's profile)", "seccomp(2): filters cannot dereference pointers"],
    fix: {
      policy: '"routes": "closed" (syscage\'s default), or {"syscall": "clone3", "action": "ERRNO(ENOSYS)"}',
      nspawn: "--routes=closed (syscage's default)",
      unit: "SystemCallFilter=~clone3:ENOSYS",
      profile: '{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}',
    },
  },
  {
    id: "route.openat2",
    title: "openat2 allowed while openat's flags are restricted",
    category: "route",
    severity: "medium",
    basis: "decisions",
    why: "openat2 takes openat's flags and mode in a struct (struct open_how) that no filter can read: while it is allowed, a check on open/openat flags (no O_CREAT, no O_WRONLY…) does not hold.",
    references: ["openat2(2) (Linux 5.6)", "systemd PR #18342 (openat2 gets ENOSYS, not EPERM, where flags are restricted)"],
    fix: {
      policy: '"routes": "closed" (syscage\'s default), or {"syscall": "openat2", "action": "ERRNO(ENOSYS)"}',
      nspawn: "--routes=closed (syscage's default)",
      unit: "SystemCallFilter=~openat2:ENOSYS",
      profile: '{"names": ["openat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}',
    },
  },
  // ---- ABI coverage -----------------------------------------------------------------------
  {
    id: "abi.compat-uncovered",
    title: "a compat ABI of the host is not covered and its calls are allowed",
    category: "abi",
    severity: "critical",
    basis: "decisions",
    why: "A 64-bit kernel also runs its compat ABIs (i386 and x32 on x86_64, arm on aarch64, …): a process can make i386 calls with `int $0x80`. The filter does not cover this ABI and its bad-arch action lets the calls run, so none of the rules apply to them.",
    references: ["CVE-2009-0835 (seccomp did not account for 32-bit syscalls on x86_64)", "Documentation/userspace-api/seccomp_filter.rst: check the architecture first", "systemd.exec(5), SystemCallArchitectures="],
    fix: {
      policy: '"abis": [the native ABI and every compat one, e.g. "x86_64", "x86", "x32"], or "badArch": "KILL_PROCESS"',
      nspawn: "--arch={abis} (nspawn covers every ABI the host runs by default)",
      unit: "SystemCallArchitectures=native",
      profile: 'an "archMap" entry listing the compat ABIs ({"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]})',
    },
  },
  {
    id: "abi.bad-arch-permissive",
    title: "the bad-arch action lets calls of other ABIs run",
    category: "abi",
    severity: "low",
    basis: "decisions",
    why: "Calls on an ABI the filter does not cover get the bad-arch action, here ALLOW or LOG. Every ABI this host's kernel runs is covered today, but a kernel with another compat ABI enabled (x32 on a distribution kernel, arm on aarch64) would run them unfiltered.",
    references: ["Documentation/userspace-api/seccomp_filter.rst", "seccomp(2), EXAMPLES: the architecture check"],
    fix: { policy: '"badArch": "KILL_PROCESS"', unit: "SystemCallArchitectures=native", profile: "runc and crun kill on a bad arch; a hand-made program should too" },
  },
  {
    id: "abi.x32-numbers",
    title: "x32 numbers reach the x86_64 rules",
    category: "abi",
    severity: "high",
    basis: "decisions",
    why: "x32 calls arrive with AUDIT_ARCH_X86_64 and bit 30 set in the number. The filter covers x86_64 but not x32, and lets x32 numbers through instead of treating them as another ABI: on a kernel built with CONFIG_X86_X32_ABI, an x32 call runs where its x86_64 twin is denied.",
    references: ["seccomp(2), \"Caveats\": __X32_SYSCALL_BIT", "libseccomp src/gen_bpf.c: the x86_64 guard (nr >= 0x40000000 is bad-arch, except -1)"],
    fix: { policy: '"abis": ["x86_64", "x86", "x32"] (syscage sends x32 numbers of an x86_64-only policy to badArch)', profile: 'add SCMP_ARCH_X32 to the archMap, or let libseccomp generate the program' },
  },
  {
    id: "abi.unknown-allowed",
    title: "numbers the tables do not name are allowed",
    category: "abi",
    severity: "medium",
    basis: "decisions",
    why: "Syscall numbers no table of the ABI names (calls newer than the tables, numbers in gaps) run unfiltered. A kernel upgrade then widens the filter by itself.",
    references: ["systemd PR #16819 (nspawn returns ENOSYS for unknown calls)", "seccomp(2)"],
    fix: { policy: '"unknown": "ERRNO(ENOSYS)" (syscage\'s default)', profile: '"defaultAction": "SCMP_ACT_ERRNO" (numbers no entry names get the default action)' },
  },
  {
    id: "abi.compat-surface",
    title: "compat ABIs are covered and allowed",
    category: "abi",
    severity: "info",
    basis: "decisions",
    why: "The filter lets calls of a compat ABI (i386, x32, arm on aarch64) run. That is needed for 32-bit programs; for a 64-bit-only workload the compat entry points are attack surface that a filter can close (systemd's SystemCallArchitectures=native).",
    references: ["CVE-2010-3081 (compat_alloc_user_space)", "systemd.exec(5), SystemCallArchitectures="],
    fix: { policy: '"abis": [the native ABI only], "badArch": "KILL_PROCESS"', nspawn: "--arch=native ABI only (e.g. --arch=x86_64)", unit: "SystemCallArchitectures=native", profile: 'drop the "subArchitectures" of the archMap' },
  },
  // ---- argument checks the kernel reads differently ------------------------------------------
  {
    id: "args.high-bits",
    title: "a 64-bit comparison on a 32-bit argument (the high-bits hole)",
    category: "argument",
    severity: "high",
    basis: "decisions",
    why: "The filter compares all 64 bits of an argument whose C type is 32 bits (int family, unsigned int cmd, …); the kernel uses only the low 32. A caller sets a high bit, the check no longer matches, and the kernel acts on the low bits as if the check were not there.",
    references: ["include/linux/syscalls.h, __SC_CAST: the kernel casts each register to the declared type", "seccomp_rule_add(3): libseccomp compares 64 bits", "docs/semantics.md, \"Argument comparisons\""],
    fix: { policy: '"argumentWidth": "kernel" (syscage\'s default: compare the bits the C type keeps)', nspawn: "--argument-width=kernel", unit: "--argument-width=kernel", profile: "syscage compiles profiles at the kernel's width; with libseccomp, add a rule for the high word" },
  },
  {
    id: "args.pointer",
    title: "a condition on a pointer argument",
    category: "argument",
    severity: "medium",
    basis: "decisions",
    why: "The filter decides on the value of a pointer argument — an address — never on the string or struct it points to, which the caller controls (and can change after the check). Such a check is bypassed by passing the same data at another address.",
    references: ["seccomp(2): \"the filter cannot dereference pointers\"", "Documentation/userspace-api/seccomp_filter.rst (time-of-check, time-of-use)"],
    fix: { policy: "drop the condition on the pointer argument; restrict the call outright, or with Landlock for paths (syscage run --allow-read …)" },
  },
  {
    id: "args.masked-eq-outside-mask",
    title: "a MASKED_EQ value with bits outside its mask",
    category: "argument",
    severity: "medium",
    basis: "rules",
    why: "`(arg & mask) == value` can never hold when the value has bits the mask clears: the rule never applies, which is rarely what its author meant (a deny that denies nothing).",
    references: ["seccomp_rule_add(3), SCMP_CMP_MASKED_EQ"],
    fix: { policy: "make the value a subset of the mask, e.g. value & mask" },
  },
  {
    id: "args.truncated-constant",
    title: "a constant wider than the argument the kernel reads",
    category: "argument",
    severity: "low",
    basis: "rules",
    why: "The condition's constant does not fit in the bits the kernel keeps of the argument (its C type), so only its low bits are compared: the check means something else than what is written.",
    references: ["include/linux/syscalls.h, __SC_CAST", "docs/semantics.md, \"Argument comparisons\""],
    fix: { policy: "write the constant as the C type holds it (e.g. the low 32 bits of an int)" },
  },
  // ---- dangerous calls, grouped by what they give -----------------------------------------------
  danger("danger.ptrace", "other processes can be traced or written", "high", ["ptrace", "process_vm_writev", "process_vm_readv"], "read and write another process's memory and registers, and (before Linux 4.8) change a syscall after the filter ran", "none for own processes (kernel.yama.ptrace_scope); CAP_SYS_PTRACE for others",
    "ptrace and process_vm_writev let a process control its siblings in the sandbox; before Linux 4.8 a tracer could change a call after seccomp checked it.",
    ["CVE-2019-13272 (PTRACE_TRACEME privilege escalation)", "seccomp(2): before Linux 4.8 the filter was not re-run after the tracer", "ptrace(2), Yama"]),
  danger("danger.bpf", "eBPF programs can be loaded", "high", ["bpf"], "load eBPF programs: a large in-kernel attack surface (verifier bugs)", "CAP_BPF or CAP_SYS_ADMIN (kernel.unprivileged_bpf_disabled)",
    "The eBPF verifier has a long history of privilege escalations.", ["CVE-2021-3490", "CVE-2022-23222", "Documentation/admin-guide/sysctl/kernel.rst, unprivileged_bpf_disabled"]),
  danger("danger.perf", "perf events can be opened", "medium", ["perf_event_open"], "kernel profiling: information leaks and a large attack surface", "CAP_PERFMON (kernel.perf_event_paranoid)",
    "perf_event_open has been the entry point of several kernel exploits and leaks kernel addresses.", ["CVE-2013-2094", "CVE-2023-2235", "perf_event_open(2), perf_event_paranoid"]),
  danger("danger.userfaultfd", "userfaultfd is allowed", "medium", ["userfaultfd"], "stall the kernel on a page fault at a chosen moment, widening race windows in exploits", "none (vm.unprivileged_userfaultfd) or CAP_SYS_PTRACE",
    "userfaultfd is the standard tool to win kernel races (use-after-free exploits).", ["userfaultfd(2)", "Documentation/admin-guide/sysctl/vm.rst, unprivileged_userfaultfd"]),
  danger("danger.keyring", "the kernel keyring is reachable", "medium", ["keyctl", "add_key", "request_key"], "the kernel's key store, shared beyond the container (keyrings are only partly namespaced, since Linux 5.3)", "none",
    "Keyring calls reach state outside the sandbox and have had privilege escalations; Docker denies them.", ["CVE-2016-0728", "keyrings(7)", "Docker's default profile denies add_key, keyctl, request_key"]),
  danger("danger.kexec", "a new kernel can be loaded", "critical", ["kexec_load", "kexec_file_load"], "replace the running kernel", "CAP_SYS_BOOT",
    "kexec loads and boots another kernel: the whole machine.", ["kexec_load(2)"]),
  danger("danger.modules", "kernel modules can be loaded or removed", "critical", ["init_module", "finit_module", "delete_module", "create_module"], "run code in the kernel", "CAP_SYS_MODULE",
    "A module is code in the kernel.", ["init_module(2)", "delete_module(2)"]),
  danger("danger.mount", "file systems can be mounted", "high", ["mount", "umount", "umount2", "pivot_root", "move_mount", "fsopen", "fsmount", "fsconfig", "fspick", "open_tree", "mount_setattr"], "change what paths mean; reach file-system parsers in the kernel", "CAP_SYS_ADMIN (in the mount namespace's user namespace)",
    "Mounting changes the file system view (over /proc, /sys, the container's root) and reaches kernel parsers; inside a user namespace no real privilege is needed.", ["CVE-2022-0185 (fsconfig heap overflow, reachable from a user namespace)", "mount(2)", "mount_namespaces(7)"]),
  danger("danger.namespaces", "new namespaces can be created", "high", ["unshare", "setns", "clone"], "a user namespace gives every capability inside it, opening kernel code that is otherwise root-only", "none for a user namespace; CAP_SYS_ADMIN for the others",
    "unshare(CLONE_NEWUSER) (or clone with namespace flags) needs no privilege and gives the capabilities that many kernel exploits start from.", ["CVE-2022-0185", "CVE-2023-32233 (nf_tables, reached from a user namespace)", "user_namespaces(7)"]),
  danger("danger.open-by-handle", "files can be opened by handle", "high", ["open_by_handle_at"], "open any file of a mounted file system by its handle, outside the container's root (the \"shocker\" escape)", "CAP_DAC_READ_SEARCH",
    "open_by_handle_at ignores the mount tree: with CAP_DAC_READ_SEARCH it opened the host's /etc/shadow from a Docker container in 2014.", ["\"shocker\" Docker escape (2014)", "open_by_handle_at(2)"]),
  danger("danger.personality", "personality flags can be changed", "medium", ["personality"], "turn off address-space randomisation (ADDR_NO_RANDOMIZE) or make reads imply exec (READ_IMPLIES_EXEC) for programs the process runs", "none",
    "Allowed without a check of the persona: a process can disable ASLR for what it executes. Docker allows only the personas 0, 0x8, 0x20000, 0x20008 and 0xffffffff (query).", ["personality(2)", "systemd.exec(5), LockPersonality="]),
  danger("danger.tiocsti", "input can be pushed into the terminal", "high", ["ioctl"], "type commands into the terminal the sandbox shares with its caller (TIOCSTI, TIOCLINUX)", "none (CAP_SYS_ADMIN when dev.tty.legacy_tiocsti=0, Linux 6.2)",
    "A sandboxed program that shares a terminal can inject keystrokes that its caller's shell runs after it exits.", ["CVE-2017-5226 (bubblewrap)", "CVE-2016-7545 (SELinux sandbox)", "tty_ioctl(4), TIOCSTI"]),
  danger("danger.ioport", "I/O ports can be opened", "critical", ["iopl", "ioperm"], "direct hardware access", "CAP_SYS_RAWIO", "I/O port access reaches hardware directly.", ["ioperm(2)", "iopl(2)"]),
  danger("danger.swap", "swap can be switched", "medium", ["swapon", "swapoff"], "change the machine's swap devices", "CAP_SYS_ADMIN", "Swap devices are machine-wide.", ["swapon(2)"]),
  danger("danger.reboot", "the machine can be rebooted", "high", ["reboot"], "reboot or halt the machine (outside a PID namespace)", "CAP_SYS_BOOT", "reboot acts on the machine unless the caller is in a PID namespace.", ["reboot(2)"]),
  danger("danger.clock", "the system clock can be set", "medium", ["settimeofday", "clock_settime", "clock_settime64", "stime"], "change the time of the whole machine (certificates, logs, timeouts)", "CAP_SYS_TIME",
    "The clock is not namespaced (time namespaces only offset monotonic and boot clocks).", ["clock_settime(2)", "time_namespaces(7)"]),
  danger("danger.syslog", "the kernel log can be read or cleared", "medium", ["syslog"], "read kernel addresses from the log (defeating KASLR), clear the log", "CAP_SYSLOG (kernel.dmesg_restrict)", "The kernel log is machine-wide and leaks kernel pointers.", ["syslog(2)", "Documentation/admin-guide/sysctl/kernel.rst, dmesg_restrict"]),
  danger("danger.acct", "process accounting can be switched", "low", ["acct"], "switch process accounting, machine-wide", "CAP_SYS_PACCT", "Process accounting is machine-wide.", ["acct(2)"]),
  danger("danger.quotactl", "disk quotas can be changed", "low", ["quotactl", "quotactl_fd"], "change disk quotas of a file system", "CAP_SYS_ADMIN", "Quotas apply to the whole file system.", ["quotactl(2)"]),
  // ---- action pitfalls -----------------------------------------------------------------------
  {
    id: "action.trace",
    title: "TRACE without a tracer",
    category: "action",
    severity: "low",
    basis: "decisions",
    why: "SECCOMP_RET_TRACE hands the call to a ptrace tracer; with none attached the call fails with ENOSYS. With one, the tracer decides, and before Linux 4.8 it could change the call after the filter ran.",
    references: ["seccomp(2), SECCOMP_RET_TRACE"],
    fix: { policy: 'an ERRNO or KILL action instead of TRACE, e.g. "ERRNO(EPERM)"' },
  },
  {
    id: "action.notify",
    title: "USER_NOTIF used for a decision",
    category: "action",
    severity: "medium",
    basis: "decisions",
    why: "A supervisor decides these calls. It cannot safely read pointer arguments (the caller can change the memory after the check), and answering with SECCOMP_USER_NOTIF_FLAG_CONTINUE lets the kernel run the call with whatever the memory holds then: it must not be a security decision.",
    references: ["seccomp_unotify(2), \"Caveats regarding the use of SECCOMP_USER_NOTIF_FLAG_CONTINUE\""],
    fix: { policy: "decide in the filter (ALLOW / ERRNO) what must be enforced; keep NOTIFY for emulation" },
  },
  {
    id: "action.kill-startup-probe",
    title: "a call that libc or libuv probe at start-up is killed",
    category: "action",
    severity: "medium",
    basis: "decisions",
    why: "glibc, musl and libuv try newer calls first and fall back when they fail with ENOSYS (clone3 for threads, rseq, statx, faccessat2, io_uring_setup…). A kill (or trap) there crashes ordinary programs instead of letting them fall back.",
    references: ["moby/moby#42680 (clone3 must fail with ENOSYS)", "systemd PR #16739 (faccessat2)", "libuv 1.45: io_uring probed at start-up"],
    fix: { policy: '{"syscall": {json}, "action": "ERRNO(ENOSYS)"}', nspawn: '--system-call-filter="~{names}" (nspawn returns EPERM or ENOSYS, never kills)', unit: "SystemCallFilter=~{names}:ENOSYS", profile: '{"names": {json}, "action": "SCMP_ACT_ERRNO", "errnoRet": 38}' },
  },
  {
    id: "action.permissive-default",
    title: "calls no rule names are allowed",
    category: "action",
    severity: "high",
    basis: "decisions",
    why: "The default action is ALLOW or LOG: the filter is a deny list. Every call it does not name — including the ones the next kernel adds — runs. Allow lists fail closed.",
    references: ["systemd.exec(5), SystemCallFilter=: allow lists are recommended", "Documentation/userspace-api/seccomp_filter.rst"],
    fix: { policy: '"default": "ERRNO(EPERM)" with the needed calls allowed (syscage record writes such a policy)', unit: "SystemCallFilter=@system-service", profile: '"defaultAction": "SCMP_ACT_ERRNO"' },
  },
  // ---- kernel-version notes (--host-kernel) ----------------------------------------------------
  {
    id: "kernel.ptrace-before-4.8",
    title: "before Linux 4.8 a tracer can change a call after the filter",
    category: "kernel",
    severity: "high",
    basis: "decisions",
    why: "On the host kernel given (older than 4.8) seccomp does not re-run after a ptrace stop: a traced process (or a TRACE action's tracer) can change the syscall number or arguments after the filter allowed it.",
    references: ["seccomp(2): \"Before kernel 4.8, the seccomp check will not be run again after the tracer is notified\"", "Docker's profile allows ptrace only from kernel 4.8 (minKernel)"],
    fix: { policy: '{"syscall": ["ptrace"], "action": "ERRNO(EPERM)"}, and no TRACE actions', profile: '"includes": {"minKernel": "4.8"} on the ptrace entry' },
  },
  {
    id: "kernel.kill-process-before-4.14",
    title: "KILL_PROCESS is KILL_THREAD before Linux 4.14",
    category: "kernel",
    severity: "low",
    basis: "decisions",
    why: "On the host kernel given (older than 4.14) SECCOMP_RET_KILL_PROCESS does not exist and acts as a thread kill: the other threads of the process go on running.",
    references: ["seccomp(2), SECCOMP_RET_KILL_PROCESS (Linux 4.14)"],
    fix: { policy: "an ERRNO action, or a newer kernel" },
  },
] satisfies CatalogueEntry[]);

/** The entry with this id, or undefined. */
export function catalogueEntry(id: string): CatalogueEntry | undefined {
  return AUDIT_CATALOGUE.find((e) => e.id === id);
}

/** The weight of an entry (its own, or its severity's). */
export function entryWeight(e: CatalogueEntry): number {
  return e.weight ?? SEVERITY_WEIGHTS[e.severity];
}

/**
 * The calls libc and libuv try at start-up and fall back from on ENOSYS:
 * a kill there breaks ordinary programs ({@link AUDIT_CATALOGUE} "action.kill-startup-probe").
 */
export const STARTUP_PROBES: readonly string[] = Object.freeze([
  "clone3", "rseq", "statx", "faccessat2", "openat2", "close_range", "io_uring_setup", "epoll_pwait2", "pidfd_open", "getrandom", "membarrier", "copy_file_range", "fchmodat2", "futex_waitv",
]);

/** Linux personality flags no persona check should let through (include/uapi/linux/personality.h). */
export const RISKY_PERSONAS: readonly { readonly name: string; readonly value: bigint }[] = Object.freeze([
  { name: "ADDR_NO_RANDOMIZE", value: 0x0040000n },
  { name: "READ_IMPLIES_EXEC", value: 0x0400000n },
]);

/** CLONE_NEWUSER (include/uapi/linux/sched.h), and SIGCHLD as clone's exit signal. */
export const CLONE_NEWUSER = 0x10000000n;

/**
 * The exposure score of findings: 0 when there is none, towards 10 as they
 * add up; each finding of weight w (0–10) leaves (1 − w/10) of the safety,
 * so score = 10 × (1 − Π(1 − wᵢ/10)), rounded to one decimal. One weight-10
 * finding alone is 10. docs/audit.md documents it.
 */
export function exposureScore(weights: readonly number[]): number {
  let safe = 1;
  for (const w of weights) safe *= 1 - Math.min(10, Math.max(0, w)) / 10;
  return Math.round((1 - safe) * 100) / 10;
}

/** systemd-analyze security's words for a score. */
export function exposureLabel(score: number): string {
  if (score === 0) return "PERFECT";
  if (score < 2) return "SAFE";
  if (score < 5) return "OK";
  if (score < 7.5) return "MEDIUM";
  if (score < 9) return "EXPOSED";
  return "UNSAFE";
}
