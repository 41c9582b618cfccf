/**
 * What the host facts mean for syscage: for each fact that limits it or
 * changes what a filter does here, a note with the consequence and what to
 * do. Data for `syscage doctor`; library code never prints.
 */
import type { HostFacts } from "./probe.js";

/**
 * "limit": something syscage offers cannot work on this host (doctor exits 1).
 * "note": worth knowing, nothing syscage offers is lost.
 */
export type HostNoteLevel = "limit" | "note";

export interface HostNote {
  /** Stable identifier, e.g. "no-i386", "helper-missing". */
  readonly id: string;
  readonly level: HostNoteLevel;
  /** What is the case, and what it means for syscage. */
  readonly message: string;
  /** What to do about it, when anything can be done. */
  readonly fix: string | null;
}

/** The notes for `facts`, limits first. */
export function hostNotes(facts: HostFacts): HostNote[] {
  const notes: HostNote[] = [];
  const add = (id: string, level: HostNoteLevel, message: string, fix: string | null = null): void => {
    notes.push({ id, level, message, fix });
  };

  if (!facts.seccomp.available) {
    add("no-seccomp", "limit", "the kernel has no seccomp filters: `syscage run` and `record` cannot work here; compiling, explaining and proving still do", "use a kernel built with CONFIG_SECCOMP_FILTER");
  }
  if (!facts.helper.built) {
    add("helper-missing", "limit", `the native helper is not built (${facts.helper.path}): \`syscage run\`, \`record\` and the kernel facts below that need a syscall are unavailable`, "npm run build:native (needs a C compiler: apt-get install gcc libc6-dev)");
  } else if (!facts.helper.runs) {
    add("helper-broken", "limit", `the native helper does not work: ${facts.helper.detail}; \`syscage run\` refuses to launch with it`, "npm run build:native -- --force");
  }
  const notif = facts.seccomp.actions.user_notif;
  const listener = facts.seccomp.flags.NEW_LISTENER;
  if (facts.seccomp.available && (notif === false || listener === false)) {
    add("no-user-notif", "limit", "seccomp user notification is unavailable (Linux < 5.0, or the action or the NEW_LISTENER flag is missing): `syscage record` cannot work here", "use Linux ≥ 5.9");
  }

  const { i386, x32, native } = facts.abis;
  if (native === "x86_64" && i386.available === false) {
    add("no-i386", "note", `i386 calls cannot run on this kernel (int $0x80 ${i386.detail}: no ia32 emulation, or a filter above this process forbids i386 calls): filters still cover the x86 ABI, but nothing here can exercise it`, "nothing to do for syscage; the tests check x86 decisions with the interpreter and libseccomp instead");
  }
  if (native === "x86_64" && x32.available === false) {
    add("no-x32", "note", "x32 calls are disabled in this kernel (the usual case): filters still see and decide x32 numbers, and an allowed x32 call fails with ENOSYS", null);
  }
  const mode = facts.process.seccompMode;
  if (mode === 1) {
    add("seccomp-strict", "limit", "this process is in seccomp strict mode: nothing but read, write, exit and sigreturn can run", null);
  } else if (mode === 2) {
    const n = facts.process.seccompFilters;
    add("already-filtered", "note", `this process is already under ${n === null ? "a" : n} seccomp filter${n === 1 ? "" : "s"} (a container or a sandbox): syscage's filter stacks on top of it, the strictest action of all filters wins, and no process here can read another's filters`, "compare with `syscage doctor` outside the sandbox");
  }
  if (facts.process.noNewPrivs === true) {
    add("no-new-privs", "note", "no_new_privs is already set on this process: set-user-ID programs do not gain privileges here, with or without syscage", null);
  }
  if (!facts.process.root) {
    add("not-root", "note", "not running as root: `syscage run` keeps at most your own capabilities, and --private-network needs user namespaces", null);
  }
  if (facts.landlock.abi !== null && facts.landlock.abi > 0 && facts.landlock.abi < 4) {
    add("landlock-no-net", "note", `Landlock ABI ${facts.landlock.abi} has no network rights (ABI 4, Linux 6.7): --deny-network relies on its seccomp rules alone here`, null);
  }
  if (facts.landlock.abi === 0) {
    add("no-landlock", "note", `Landlock is unavailable (${facts.landlock.detail}): nothing can restrict files or ports without root here`, "boot with lsm=…,landlock (Linux ≥ 5.13)");
  }
  if (facts.userNamespaces.unprivileged.available === false) {
    add("no-unprivileged-userns", "note", `unprivileged users cannot create user namespaces (${facts.userNamespaces.unprivileged.detail}): unprivileged sandboxes (bwrap, --private-network as a user) cannot work`, "sysctl user.max_user_namespaces (or kernel.unprivileged_userns_clone / the AppArmor restriction) allows them");
  }
  if (facts.ioUring.disabledSysctl === 2 || facts.ioUring.setup.available === false) {
    add("io-uring-off", "note", `io_uring is unavailable to this process (${facts.ioUring.disabledSysctl === 2 ? "kernel.io_uring_disabled = 2" : facts.ioUring.setup.detail}): the io_uring route around a filter is closed by the kernel itself`, null);
  }
  if (facts.terminal.legacyTiocsti === true) {
    add("legacy-tiocsti", "note", "TIOCSTI works for unprivileged programs (dev.tty.legacy_tiocsti = 1): a program that shares your terminal can type into it after it exits", "sysctl -w dev.tty.legacy_tiocsti=0 where nothing needs it (Linux ≥ 6.2)");
  }
  if (facts.seccomp.constantActionCache === false) {
    add("no-action-cache", "note", "the kernel has no seccomp constant-action cache (Linux < 5.11): every syscall runs the filter", null);
  }
  return notes.sort((a, b) => (a.level === b.level ? 0 : a.level === "limit" ? -1 : 1));
}
