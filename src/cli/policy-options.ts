/**
 * The policy options every policy-taking command shares (docs/policy-options.md):
 *
 * | option | source of the policy |
 * |---|---|
 * | (none) | systemd-nspawn's default filter for the host's ABIs |
 * | `--system-call-filter`, `--capability`, `--drop-capability`, `--private-network`, `--settings FILE.nspawn` | systemd-nspawn's filter with those options |
 * | `-p KEY=VALUE`, `--unit FILE` | a systemd unit's `SystemCallFilter=` & co. (replaces nspawn's filter) |
 * | `--policy FILE.json` | syscage's JSON format |
 *
 * `--arch LIST` chooses the ABIs and `--argument-width kernel|u64` how
 * conditions read an argument, in every case (both override what the source
 * itself says: a JSON policy's `abis` and `argumentWidth`). Mixing sources
 * is an error that says why. Library code never prints; this module is CLI code and
 * prints only for `--capability help`.
 */
import { readInputText } from "../read-file.js";
import { Command, CommanderError } from "commander";
import { localAbis, type AbiName } from "../abi/arch.js";
import { CAPABILITY_NAMES } from "../abi/capabilities.js";
import { SyscageError } from "../errors.js";
import { readPolicyFile, resolveAbiList } from "../policy/json.js";
import { ARGUMENT_WIDTH_MODES, checkRoutes, type ArgumentWidthMode, type Policy } from "../policy/model.js";
import { nspawnPolicy, type NspawnOptions } from "../policy/nspawn.js";
import { mergeNspawnOptions, parseNspawnSettings } from "../policy/nspawn-settings.js";
import { buildUnitPolicy, parseUnitFile, type UnitProperty } from "../policy/systemd-unit.js";
import { loadProfilePolicy } from "./profile-options.js";

/** The values commander collects for the policy options. */
export interface PolicyOptionValues {
  policy?: string;
  systemCallFilter?: string[];
  capability?: string[];
  dropCapability?: string[];
  privateNetwork?: boolean;
  settings?: string;
  property?: string[];
  unit?: string;
  arch?: string;
  profile?: string;
  kernel?: string;
  hostArch?: string;
  argumentWidth?: string;
  routes?: string;
  denyNetwork?: boolean;
}

/** A policy from the command line, ready to compile. */
export interface LoadedPolicy {
  readonly policy: Policy;
  /** Notes for stderr (`syscage: warning: …`); they never change the exit code. */
  readonly warnings: string[];
  /** What the policy came from, for headers and messages ("nspawn default", "app.service", "policy.json"). */
  readonly source: string;
  /** The merged nspawn options when the policy is nspawn's (for capabilities); absent otherwise. */
  readonly nspawn?: NspawnOptions;
  /** For a unit policy: its SystemCall* part alone and the directives as unit lines (convert --to systemd writes both). */
  readonly unit?: { readonly systemCallPolicy: Policy; readonly directiveLines: readonly string[] };
}

/** Where `--capability help` writes; tests pass their own. */
export interface PolicyOptionsIo {
  write(text: string): void;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Print the capability names and stop with exit code 0 (nspawn's `--capability=help`). */
function capabilityOption(io: PolicyOptionsIo): (value: string, previous: string[] | undefined) => string[] {
  return (value, previous) => {
    if (value.trim() === "help") {
      io.write(CAPABILITY_NAMES.join("\n") + "\n");
      throw new CommanderError(0, "syscage.capabilityHelp", "(capabilities listed)");
    }
    return collect(value, previous);
  };
}

/**
 * Add the shared policy options to `cmd` (see the module doc and
 * docs/policy-options.md). Read them back with {@link loadPolicy}.
 * `--capability help` / `--drop-capability help` print every capability name
 * to `io` (stdout by default) and end the command with exit code 0.
 */
export function addPolicyOptions(cmd: Command, io: PolicyOptionsIo = { write: (t) => void process.stdout.write(t) }): Command {
  return cmd
    .option("--policy <file>", "syscage policy file (JSON); cannot be combined with the other policy options")
    .option(
      "--system-call-filter <list>",
      "nspawn: space-separated syscalls/@groups to allow, or with a leading ~ to deny (repeatable; deny wins)",
      collect,
    )
    .option("--capability <list>", "nspawn: comma-separated capabilities to add, or all (repeatable; help lists them)", capabilityOption(io))
    .option("--drop-capability <list>", "nspawn: comma-separated capabilities to drop (repeatable; wins over --capability)", capabilityOption(io))
    .option("--private-network", "nspawn: private network (adds CAP_NET_ADMIN)")
    .option("--settings <file>", "nspawn: a .nspawn settings file ([Exec] SystemCallFilter=, Capability=, DropCapability=, [Network] Private=); the command line overrides it")
    .option("-p, --property <key=value>", "unit: SystemCallFilter=, SystemCallErrorNumber=, SystemCallArchitectures= or SystemCallLog=, as systemd-run -p (repeatable)", collect)
    .option("--unit <file>", "unit: read those properties from the [Service] section of a unit file (-p assignments apply after it)")
    .option("--arch <list>", "comma-separated ABIs, any spelling (x86_64,x86,x32 / amd64 / arm64 …) or host (this machine's), or all (default: host)")
    .option("--profile <file>", "container seccomp profile (OCI/Docker/Podman JSON, or an OCI config.json); --capability/--drop-capability change Docker's default capabilities")
    .option("--kernel <version>", "profile: host kernel for minKernel conditions (default: the running kernel)")
    .option("--host-arch <arch>", "profile: host architecture for archMap and arches conditions (default: this machine)")
    .option(
      "--argument-width <mode>",
      "how conditions read an argument: kernel (the bits its C type keeps, closing the high-bits bypass) or u64 (all register bits, as libseccomp); overrides a JSON policy's argumentWidth (default: the policy's, else kernel)",
    )
    .option("--deny-network", "no network by any route: sockets of every family but AF_UNIX fail with EPERM (socketcall and io_uring too); sockets the command already has, and AF_UNIX ones, keep working")
    .option(
      "--routes <mode>",
      "closed: where the rules deny or restrict a call that io_uring could perform, io_uring gets EPERM, and clone3/openat2 get ENOSYS where clone/openat are restricted; open: the rules exactly as real nspawn and runc enforce them; overrides a JSON policy's routes (default: the policy's, else closed)",
    );
}

/** Parse `--argument-width kernel|u64`. */
export function parseArgumentWidth(text: string): ArgumentWidthMode {
  const t = text.trim().toLowerCase();
  if ((ARGUMENT_WIDTH_MODES as readonly string[]).includes(t)) return t as ArgumentWidthMode;
  throw new SyscageError(
    "BAD_USAGE",
    `--argument-width: "${text}" is not one of ${ARGUMENT_WIDTH_MODES.join(", ")} (kernel: compare the bits the argument's C type keeps; u64: every register bit, as libseccomp)`,
  );
}

/** Parse `--arch a,b,host` (every spelling parseAbi accepts), duplicates dropped. */
export function parsePolicyArch(text: string): AbiName[] {
  const items = text.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) {
    throw new SyscageError("BAD_USAGE", `--arch: empty name in "${text}"; separate ABIs with commas, e.g. --arch x86_64,x86 (or --arch host)`);
  }
  return resolveAbiList(items, () => "--arch");
}

/** Split `-p KEY=VALUE`. */
export function parseProperty(text: string, where: string): UnitProperty {
  const eq = text.indexOf("=");
  const key = eq < 0 ? "" : text.slice(0, eq).trim();
  if (eq < 0 || key === "") {
    throw new SyscageError("BAD_USAGE", `${where}: expected KEY=VALUE, e.g. -p SystemCallFilter=@system-service (got "${text}")`);
  }
  return { key, value: text.slice(eq + 1).trim(), where };
}

function given(list: readonly string[] | undefined): boolean {
  return list !== undefined && list.length > 0;
}

/** The nspawn options given on the command line, by option name. */
function nspawnOptionNames(o: PolicyOptionValues): string[] {
  const out: string[] = [];
  if (given(o.systemCallFilter)) out.push("--system-call-filter");
  if (given(o.capability)) out.push("--capability");
  if (given(o.dropCapability)) out.push("--drop-capability");
  if (o.privateNetwork === true) out.push("--private-network");
  if (o.settings !== undefined) out.push("--settings");
  return out;
}

function unitOptionNames(o: PolicyOptionValues): string[] {
  const out: string[] = [];
  if (given(o.property)) out.push("-p/--property");
  if (o.unit !== undefined) out.push("--unit");
  return out;
}

/**
 * Build the policy the policy options describe:
 *
 * - `--policy FILE.json` → that policy (with `--arch`, its ABIs replaced);
 *   any other policy option with it is an error;
 * - `-p` / `--unit` → the unit's policy (`--unit` file first, then each `-p`
 *   in order); nspawn options with them are an error (a unit policy replaces
 *   nspawn's filter);
 * - nspawn options (and `--settings`, merged as nspawn does: the command
 *   line overrides the file) → nspawn's filter;
 * - nothing → nspawn's default filter.
 *
 * `--arch` gives the ABIs (default: the host's local ABIs, native first).
 * `--argument-width` sets `argumentWidth` whatever the source (it overrides
 * a JSON policy's field; every other source leaves it at "kernel").
 * @throws SyscageError naming the option or `file:line`.
 */
export function loadPolicy(opts: PolicyOptionValues): LoadedPolicy {
  const width = opts.argumentWidth === undefined ? undefined : parseArgumentWidth(opts.argumentWidth);
  const routes = opts.routes === undefined ? undefined : checkRoutes(opts.routes.trim(), "--routes");
  const loaded = loadPolicySource(opts);
  const deny = opts.denyNetwork === true;
  const policy = { ...loaded.policy, ...(width !== undefined ? { argumentWidth: width } : {}), ...(routes !== undefined ? { routes } : {}), ...(deny ? { network: false } : {}) };
  return width === undefined && routes === undefined && !deny ? loaded : { ...loaded, policy };
}

/** {@link loadPolicy} without `--argument-width`. */
function loadPolicySource(opts: PolicyOptionValues): LoadedPolicy {
  const abis = opts.arch !== undefined ? parsePolicyArch(opts.arch) : undefined;
  const nspawnGiven = nspawnOptionNames(opts);
  const unitGiven = unitOptionNames(opts);
  if (opts.profile !== undefined || opts.kernel !== undefined || opts.hostArch !== undefined) {
    return loadProfilePolicy(opts, abis, [...nspawnGiven.filter((o) => o !== "--capability" && o !== "--drop-capability"), ...unitGiven]);
  }

  if (opts.policy !== undefined) {
    const others = [...nspawnGiven, ...unitGiven];
    if (others.length > 0) {
      throw new SyscageError(
        "BAD_USAGE",
        `--policy cannot be combined with ${others.join(", ")}: a JSON policy is complete on its own. Put the rules into ${opts.policy}, or drop --policy to build the policy from the other options`,
      );
    }
    const policy = readPolicyFile(opts.policy);
    return { policy: abis !== undefined ? { ...policy, abis } : policy, warnings: [], source: opts.policy };
  }

  if (unitGiven.length > 0) {
    if (nspawnGiven.length > 0) {
      throw new SyscageError(
        "BAD_USAGE",
        `${unitGiven.join(" and ")} cannot be combined with ${nspawnGiven.join(", ")}: a unit's SystemCallFilter= replaces systemd-nspawn's filter, and nspawn's options only shape nspawn's. Use one of the two`,
      );
    }
    const props: UnitProperty[] = [];
    const warnings: string[] = [];
    if (opts.unit !== undefined) {
      const file = parseUnitFile(readInputText(opts.unit, "unit"), opts.unit);
      props.push(...file.properties);
      warnings.push(...file.warnings);
    }
    (opts.property ?? []).forEach((text) => props.push(parseProperty(text, `-p ${text}`)));
    const built = buildUnitPolicy(props, abis !== undefined ? { abis } : {});
    warnings.push(...built.warnings);
    const source = [...(opts.unit !== undefined ? [opts.unit] : []), ...(given(opts.property) ? ["-p"] : [])].join(" + ");
    return { policy: built.policy, warnings, source, unit: { systemCallPolicy: built.systemCallPolicy, directiveLines: built.directiveLines } };
  }

  const cli: NspawnOptions = {
    ...(given(opts.systemCallFilter) ? { systemCallFilter: opts.systemCallFilter } : {}),
    ...(given(opts.capability) ? { capability: opts.capability } : {}),
    ...(given(opts.dropCapability) ? { dropCapability: opts.dropCapability } : {}),
    ...(opts.privateNetwork === true ? { privateNetwork: true } : {}),
    ...(abis !== undefined ? { abis } : {}),
  };
  let options = cli;
  const warnings: string[] = [];
  if (opts.settings !== undefined) {
    const file = parseNspawnSettings(readInputText(opts.settings, "unit"), opts.settings);
    warnings.push(...file.warnings);
    const merged = mergeNspawnOptions(file, cli, opts.settings);
    warnings.push(...merged.warnings);
    options = merged.options;
  }
  const policy = nspawnPolicy(options);
  const source =
    nspawnGiven.length === 0
      ? `nspawn default (${(abis ?? localAbis()).join(", ")})`
      : opts.settings !== undefined
        ? `nspawn options + ${opts.settings}`
        : "nspawn options";
  return { policy, warnings, source, nspawn: options };
}
