/**
 * `syscage doctor [--json]`: what this kernel and process can do for
 * syscage (src/host/), and for each fact that limits it, what that means and
 * what to do. Exit 0 when everything syscage offers works here, 1 when
 * something is missing (a "limit" note), 2 when the probe itself failed.
 * The JSON document is described in docs/doctor.md.
 */
import type { Command } from "commander";
import { hostNotes, type HostNote } from "../../host/advice.js";
import { probeHost, SECCOMP_ACTIONS, SECCOMP_FLAGS, type HostFacts, type Tried } from "../../host/probe.js";
import { formatTable, printJson } from "../output.js";

interface DoctorOptions {
  json?: boolean;
  helper?: string;
}

function yesNo(v: boolean | null, yes = "yes", no = "no"): string {
  return v === null ? "unknown" : v ? yes : no;
}

function triedText(t: Tried): string {
  return t.available === true ? "yes" : t.available === false ? `no (${t.detail})` : t.detail;
}

function factRows(f: HostFacts): string[][] {
  const kv = (k: string, v: string): string[] => [k, v];
  const list = (names: readonly string[], rec: Readonly<Record<string, boolean | null>>): string => {
    const no = names.filter((n) => rec[n] === false);
    const unknown = names.filter((n) => rec[n] === null);
    if (no.length === 0 && unknown.length === 0) return `all (${names.join(" ")})`;
    return [no.length > 0 ? `missing: ${no.join(" ")}` : "", unknown.length > 0 ? `unknown: ${unknown.join(" ")}` : ""].filter((s) => s !== "").join("; ");
  };
  return [
    kv("kernel", `${f.kernel.release} (${f.kernel.machine})`),
    kv("native ABI", f.abis.native ?? "unknown"),
    kv("i386 calls (int $0x80)", triedText(f.abis.i386)),
    kv("x32 calls", triedText(f.abis.x32)),
    kv("seccomp filters", yesNo(f.seccomp.available)),
    kv("seccomp actions", list(SECCOMP_ACTIONS, f.seccomp.actions)),
    kv("seccomp filter flags", list(SECCOMP_FLAGS, f.seccomp.flags)),
    kv("constant-action cache", yesNo(f.seccomp.constantActionCache, "yes (Linux >= 5.11)", "no (Linux < 5.11)")),
    kv("this process: seccomp", f.process.seccompMode === null ? "unknown" : f.process.seccompMode === 0 ? "none" : f.process.seccompMode === 1 ? "strict mode" : `${f.process.seccompFilters ?? "some"} filter(s)`),
    kv("this process: can read filters", triedText(f.process.canReadFilters)),
    kv("this process: no_new_privs", yesNo(f.process.noNewPrivs)),
    kv("this process: user", `euid ${f.process.euid}${f.process.root ? " (root)" : ""}, CapEff ${f.process.capEff ?? "unknown"}`),
    kv("Landlock", f.landlock.abi === null ? f.landlock.detail : f.landlock.abi === 0 ? `no: ${f.landlock.detail}` : `ABI ${f.landlock.abi}`),
    kv("user namespaces", `${triedText(f.userNamespaces.self)}; unprivileged: ${triedText(f.userNamespaces.unprivileged)}; max ${f.userNamespaces.max ?? "unknown"}`),
    kv("io_uring", `${triedText(f.ioUring.setup)}; kernel.io_uring_disabled = ${f.ioUring.disabledSysctl ?? "absent"}`),
    kv("TIOCSTI for unprivileged", yesNo(f.terminal.legacyTiocsti, "yes (dev.tty.legacy_tiocsti = 1)", "no (dev.tty.legacy_tiocsti = 0)")),
    kv("native helper", f.helper.runs ? `ok (${f.helper.path})` : f.helper.detail),
  ];
}

function noteText(n: HostNote): string {
  return `${n.level === "limit" ? "LIMIT" : "note"}: ${n.message}${n.fix !== null ? `\n       fix: ${n.fix}` : ""}`;
}

function run(opts: DoctorOptions): void {
  let facts: HostFacts;
  try {
    facts = probeHost(opts.helper !== undefined ? { helper: opts.helper } : {});
  } catch (err) {
    process.stderr.write(`syscage: doctor: the host probe failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
    return;
  }
  const notes = hostNotes(facts);
  const status = notes.some((n) => n.level === "limit") ? 1 : 0;
  if (opts.json === true) {
    printJson({ ...facts, notes, status });
  } else {
    const out = [formatTable(factRows(facts)), ""];
    if (notes.length === 0) out.push("syscage can do everything it offers on this host.");
    else out.push(...notes.map(noteText), "", status === 0 ? "syscage can do everything it offers on this host (the notes above are for your information)." : "some of syscage cannot work on this host (LIMIT above).");
    process.stdout.write(out.join("\n") + "\n");
  }
  process.exitCode = status;
}

export function register(program: Command): void {
  program
    .command("doctor")
    .summary("what this kernel and process can do for syscage")
    .description(
      "Probe this host: the ABIs the kernel really executes (i386 through int $0x80, x32), seccomp actions and filter flags, " +
        "the filters already on this process, Landlock, user namespaces, io_uring, TIOCSTI and the native helper. " +
        "Each fact that limits syscage comes with what it means and what to do.\n\n" +
        "Exit status: 0 everything syscage offers works here, 1 something is missing (a LIMIT line), 2 the probe failed.",
    )
    .option("--json", "print the facts, notes and status as one JSON document (format: docs/doctor.md)")
    .option("--helper <path>", "ask this native helper instead of the package's build")
    .action((opts: DoctorOptions) => run(opts));
}
