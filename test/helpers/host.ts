/**
 * Kernel capabilities, for the tests: one probe of the host (src/host/, the
 * same that `syscage doctor` prints) instead of assumptions.
 *
 * This is not the oracle rule (helpers/oracles.ts): a missing package fails
 * under SYSCAGE_REQUIRE_ORACLES=1 because .ci/run can install it, but a
 * missing kernel capability cannot be installed. So the part of a test that
 * needs it is skipped with a loud notice naming the capability and what
 * covers the same ground, even in CI, and the rest of the test still runs.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { defaultHelperPath, probeHost, type HostFacts } from "../../src/host/probe.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** The kernel capabilities tests ask for (docs/testing.md lists who needs which). */
export type HostCapability = "i386" | "x32" | "landlock" | "user-notif" | "userns-unprivileged" | "io_uring" | "legacy-tiocsti" | "read-filters";

let facts: HostFacts | undefined;

/** The host's facts, with the native helper built first (its probe answers the syscall facts). */
export function hostFacts(): HostFacts {
  if (facts !== undefined) return facts;
  if (process.platform === "linux" && !existsSync(defaultHelperPath())) {
    execFileSync(process.execPath, [join(REPO, "scripts", "build-native.mjs")], { stdio: ["ignore", "inherit", "inherit"] });
  }
  facts = probeHost();
  if (process.platform === "linux" && !facts.helper.runs) {
    throw new Error(`the host probe needs the native helper: ${facts.helper.detail}`);
  }
  return facts;
}

/** Why the kernel lacks `cap`, or null when it has it. */
export function hostLacks(cap: HostCapability): string | null {
  const f = hostFacts();
  switch (cap) {
    case "i386":
      return f.abis.i386.available === true ? null : `i386 calls through int $0x80 cannot run here (${f.abis.i386.detail})`;
    case "x32":
      return f.abis.x32.available === true ? null : `x32 calls are disabled in this kernel (${f.abis.x32.detail})`;
    case "landlock":
      return f.landlock.abi !== null && f.landlock.abi > 0 ? null : `Landlock is unavailable (${f.landlock.detail})`;
    case "user-notif":
      return f.seccomp.actions.user_notif === true && f.seccomp.flags.NEW_LISTENER === true ? null : "seccomp user notification is unavailable";
    case "userns-unprivileged":
      return f.userNamespaces.unprivileged.available === true ? null : `unprivileged user namespaces are unavailable (${f.userNamespaces.unprivileged.detail})`;
    case "io_uring":
      return f.ioUring.setup.available === true ? null : `io_uring is unavailable (${f.ioUring.setup.detail})`;
    case "read-filters":
      return f.process.canReadFilters.available === true ? null : `this process cannot read other processes' seccomp filters (${f.process.canReadFilters.detail})`;
    case "legacy-tiocsti":
      return f.terminal.legacyTiocsti === true ? null : "TIOCSTI is restricted to CAP_SYS_ADMIN (dev.tty.legacy_tiocsti = 0)";
  }
}

export function hostHas(cap: HostCapability): boolean {
  return hostLacks(cap) === null;
}

const told = new Set<string>();

/**
 * A loud notice that `what` is skipped for want of `cap`, naming what covers
 * the same ground. Printed once per (capability, what) in a test process.
 */
export function noticeSkip(t: TestContext | undefined, cap: HostCapability, what: string, coveredBy: string): void {
  const line = `SKIPPED (kernel capability "${cap}": ${hostLacks(cap) ?? "?"}): ${what}; covered instead by ${coveredBy}`;
  t?.diagnostic(line);
  if (told.has(line)) return;
  told.add(line);
  process.stderr.write(`\n*** ${line} ***\n`);
}

/**
 * True when the kernel has `cap`; otherwise the whole test is skipped with
 * the notice (never a failure: a kernel capability cannot be installed).
 */
export function needHost(t: TestContext, cap: HostCapability, coveredBy: string): boolean {
  if (hostHas(cap)) return true;
  noticeSkip(t, cap, `test "${t.name}"`, coveredBy);
  t.skip(`kernel capability ${cap} missing: ${hostLacks(cap)}`);
  return false;
}

/** What covers the i386 decisions where the kernel cannot run i386 calls. */
export const I386_COVERED_BY = "the interpreter and the libseccomp differential, which check every x86 number (test/compile-libseccomp.test.ts, test/libseccomp-oracle.test.ts, test/multiplex.test.ts)";

/**
 * `items` without the i386 calls when the kernel cannot run them (with the
 * notice); `isI386` tells which items are i386 calls.
 */
export function withoutI386<T>(t: TestContext | undefined, items: readonly T[], isI386: (item: T) => boolean, what = "its i386 calls (int $0x80)"): T[] {
  if (hostHas("i386")) return [...items];
  const kept = items.filter((x) => !isI386(x));
  if (kept.length !== items.length) noticeSkip(t, "i386", `${t?.name !== undefined ? `"${t.name}": ` : ""}${what}`, I386_COVERED_BY);
  return kept;
}
