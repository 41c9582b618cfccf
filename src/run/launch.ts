/**
 * What `syscage run` applies to a command, worked out in TypeScript before
 * anything is spawned (fail closed: every error is thrown here), and the
 * binary launch description handed to the native helper over a pipe.
 */
import { hostAbiIfKnown, type AbiName } from "../abi/arch.js";
import { CAP_LAST_CAP } from "../abi/capabilities.js";
import { parseCapability } from "../abi/capabilities.js";
import { decodeProgram, encodeProgram } from "../bpf/codec.js";
import type { Insn } from "../bpf/insn.js";
import { assertValid, checkStackPaths } from "../bpf/verify.js";
import { compile, type CompiledProgram } from "../compile/index.js";
import { SyscageError } from "../errors.js";
import { FILTER_FLAGS, checkRoutes, type FilterFlag, type Policy, type RoutesMode } from "../policy/model.js";
import { nspawnCapabilities, nspawnPolicy } from "../policy/nspawn.js";
import { withRoutes } from "../policy/routes.js";
import { probeHost } from "../host/probe.js";
import { OPT_APPLY_CAPS, OPT_LANDLOCK_NO_TCP, OPT_NEW_SESSION, OPT_PRIVATE_NETWORK, encodeLaunchDescription, type RecordPart } from "./launch-format.js";
import { CONFINEMENT_KEYS, planSandbox, type ConfinementOptions, type SandboxPlan } from "./sandbox.js";
import { guardTerminal } from "./terminal.js";

/**
 * The sandbox half of the options of {@link spawn} and {@link run}.
 *
 * The policy is either `policy` or built from the nspawn options
 * (`capability`, `dropCapability`, `systemCallFilter`, `privateNetwork`,
 * `abis`) exactly as `systemd-nspawn` would; with neither, it is the nspawn
 * default for the host's ABIs.
 */
export interface SandboxOptions extends ConfinementOptions {
  /** A ready policy; cannot be combined with the nspawn filter options. */
  readonly policy?: Policy;
  /** nspawn `--capability=` entries (names, comma lists, "all"). */
  readonly capability?: readonly string[];
  /** nspawn `--drop-capability=` entries; dropping wins. */
  readonly dropCapability?: readonly string[];
  /** nspawn `--system-call-filter=` values (a leading "~" makes a deny list). */
  readonly systemCallFilter?: readonly string[];
  /** ABIs of the nspawn policy (default: the host's local ABIs). */
  readonly abis?: readonly AbiName[];
  /**
   * A new network namespace with only loopback, up (needs root). With the
   * nspawn options it also retains CAP_NET_ADMIN, as nspawn does.
   */
  readonly privateNetwork?: boolean;
  /**
   * The capabilities to retain (names or numbers), or "keep" to leave them
   * as they are. Default: nspawn's retained set when the policy comes from the
   * nspawn options, "keep" for an explicit `policy`. Applied only when the
   * helper runs privileged (see native/syscage-exec.c).
   */
  readonly capabilities?: readonly (string | number)[] | ReadonlySet<number> | "keep";
  /**
   * Extra raw programs (`struct sock_filter[]` bytes, host byte order) loaded
   * before the policy's program, in this order. The policy's program is
   * loaded last, so it is the newest filter and wins ties of same-kind actions.
   */
  readonly addFilters?: readonly Uint8Array[];
  /**
   * The seccomp flags: names, or a raw flags word passed to the kernel as is.
   * Default: the policy's flags.
   */
  readonly flags?: readonly FilterFlag[] | number;
  /**
   * Routes around denied calls (docs/semantics.md, "Closed routes"): "closed"
   * closes io_uring, clone3 and openat2 where the rules need it and guards
   * the terminal (docs/run.md, "The terminal"); "open" applies the rules as
   * written. Default: the policy's, else "closed".
   */
  readonly routes?: RoutesMode;
  /**
   * `false`: no network by any route (docs/semantics.md, "No network"):
   * sockets of every family but AF_UNIX fail with EPERM; the command's stdio
   * and AF_UNIX sockets keep working. Default: the policy's (unrestricted).
   */
  readonly network?: boolean;
  /**
   * Run although the policy does not cover this host's native ABI (every
   * call of the command would get the bad-arch action). Default false: such
   * a policy is refused before anything runs.
   */
  readonly allowForeignArch?: boolean;
}

/** One program to load, with a name for messages. */
export interface PlannedProgram {
  readonly insns: readonly Insn[];
  /** "added filter 1 (of 2)", "policy program". */
  readonly source: string;
}

/** Everything the helper will apply, in order. */
export interface LaunchPlan {
  readonly policy: Policy;
  readonly compiled: CompiledProgram;
  /** In load order; the policy's program is last. */
  readonly programs: readonly PlannedProgram[];
  /** The flags word for seccomp(2). */
  readonly flags: number;
  /** Retained capability numbers, or null to leave capabilities as they are. */
  readonly capabilities: ReadonlySet<number> | null;
  readonly privateNetwork: boolean;
  /** The helper starts a new session when none of fds 0-2 is a terminal (terminal.ts). */
  readonly newSession: boolean;
  /** network: false: the helper also adds a Landlock domain that denies TCP bind and connect (Landlock ABI >= 4). */
  readonly landlockNoTcp: boolean;
  /** Landlock rules, limits, timeout, fds, environment (sandbox.ts). */
  readonly sandbox: SandboxPlan;
}

/** The kernel's Landlock ABI, for best-effort planning: SYSCAGE_TEST_LANDLOCK_ABI (tests: a kernel with less) or the host probe. */
export function hostLandlockAbi(): number {
  const forced = process.env.SYSCAGE_TEST_LANDLOCK_ABI;
  const real = probeHost().landlock.abi;
  if (forced !== undefined && /^\d+$/.test(forced)) return Math.min(Number(forced), real ?? Number(forced));
  if (real === null) throw new SyscageError("BAD_OPTIONS", "cannot find out this kernel's Landlock ABI");
  return real;
}

/** The io_uring calls the node preset answers with an errno, so that libuv falls back instead of the filter killing node. */
const NODE_PRESET_ERRNO_CALLS = ["io_uring_setup", "io_uring_enter", "io_uring_register"];

const NSPAWN_KEYS = ["capability", "dropCapability", "systemCallFilter", "abis"] as const;

function capabilitySet(caps: readonly (string | number)[] | ReadonlySet<number>): Set<number> {
  const out = new Set<number>();
  for (const c of caps) {
    if (typeof c === "number") {
      if (!Number.isInteger(c) || c < 0 || c > CAP_LAST_CAP) {
        throw new SyscageError("UNKNOWN_CAPABILITY", `capabilities: ${c} is not a capability number 0..${CAP_LAST_CAP}`);
      }
      out.add(c);
    } else out.add(parseCapability(c));
  }
  return out;
}

/** The flags word of `flags` (names or a raw word). */
export function flagsWord(flags: readonly FilterFlag[] | number): number {
  if (typeof flags === "number") {
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
      throw new SyscageError("BAD_FLAGS", `flags: ${flags} is not a 32-bit flags word`);
    }
    return flags;
  }
  let word = 0;
  for (const f of flags) {
    const bit = FILTER_FLAGS[f];
    if (bit === undefined) throw new SyscageError("BAD_FLAGS", `flags: unknown filter flag "${f}"; known: ${Object.keys(FILTER_FLAGS).join(", ")}`);
    word |= bit;
  }
  return word >>> 0;
}

/**
 * A list option given as an array of strings, or one string (one entry, as
 * nspawn's option takes one value: "~@network-io"); anything else is an error
 * naming the option.
 */
function stringList(v: unknown, name: string): readonly string[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  throw new SyscageError("BAD_OPTIONS", `${name}: expected an array of strings such as ["~@network-io"], or one string`);
}

/**
 * Work out what to apply: build and compile the policy (always verified),
 * decode and verify the added programs, check the kernel's path limit for the
 * whole stack. Throws SyscageError on any problem; nothing is spawned.
 */
export function planLaunch(options: SandboxOptions = {}): LaunchPlan {
  const nspawnGiven = NSPAWN_KEYS.filter((k) => options[k] !== undefined);
  if (options.policy !== undefined && nspawnGiven.length > 0) {
    throw new SyscageError("BAD_OPTIONS", `give either a policy or nspawn options (${nspawnGiven.join(", ")}), not both`);
  }
  const nspawnOpts = {
    capability: stringList(options.capability, "capability"),
    dropCapability: stringList(options.dropCapability, "dropCapability"),
    systemCallFilter: stringList(options.systemCallFilter, "systemCallFilter"),
    privateNetwork: options.privateNetwork,
    abis: stringList(options.abis, "abis") as AbiName[] | undefined,
  };
  if (options.privateNetwork !== undefined && typeof options.privateNetwork !== "boolean") throw new SyscageError("BAD_OPTIONS", `privateNetwork: expected true or false, got ${typeof options.privateNetwork}`);
  // The closed routes (policy/routes.ts) and, for a launch, the terminal guard (terminal.ts).
  const base = options.policy ?? nspawnPolicy(nspawnOpts);
  if (options.network !== undefined && typeof options.network !== "boolean") throw new SyscageError("BAD_OPTIONS", `network: expected true or false, got ${typeof options.network}`);
  const confinement = Object.fromEntries(CONFINEMENT_KEYS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]])) as ConfinementOptions;
  if (options.network === false && ((options.allowConnect?.length ?? 0) > 0 || (options.allowBind?.length ?? 0) > 0)) {
    throw new SyscageError("BAD_OPTIONS", "network: false (--deny-network) denies every socket but AF_UNIX, so allowConnect/allowBind (--allow-connect/--allow-bind) could never be used: give one or the other");
  }
  const sandbox = planSandbox(confinement, { hostLandlockAbi });
  // The node preset: io_uring answered with EPERM where no rule of the policy names it (libuv then uses its thread pool).
  const presetRules =
    options.preset === "node"
      ? NODE_PRESET_ERRNO_CALLS.filter((n) => !base.rules.some((r) => r.syscall === n)).map((syscall) => ({ syscall, action: { kind: "ERRNO" as const, errno: 1 }, conditions: [], origin: "--preset node: io_uring gets EPERM, so that libuv uses its thread pool" }))
      : [];
  const shaped: Policy = {
    ...base,
    ...(presetRules.length > 0 ? { rules: [...base.rules, ...presetRules] } : {}),
    ...(options.routes !== undefined ? { routes: checkRoutes(options.routes, "routes") } : {}),
    ...(options.network === false ? { network: false } : {}),
  };
  const policy = guardTerminal(withRoutes(shaped));
  const native = hostAbiIfKnown();
  if (native !== undefined && !policy.abis.includes(native) && options.allowForeignArch !== true) {
    throw new SyscageError(
      "FOREIGN_ARCH",
      `the policy covers ${policy.abis.join(", ")} but not this host's native ABI ${native}: every call of the command would get the bad-arch action (${policy.badArch.action.kind}), so it would die at its first syscall. Add ${native} (--arch ${[native, ...policy.abis].join(",")}), or pass --allow-foreign-arch (allowForeignArch: true) if that is what you mean`,
    );
  }
  let capabilities: ReadonlySet<number> | null;
  if (options.capabilities === "keep") capabilities = null;
  else if (options.capabilities !== undefined) capabilities = capabilitySet(options.capabilities);
  else capabilities = options.policy === undefined ? nspawnCapabilities(nspawnOpts) : null;

  const compiled = compile(policy);
  const added = options.addFilters ?? [];
  const programs: PlannedProgram[] = added.map((bytes, i) => {
    const source = `added filter ${i + 1} (of ${added.length})`;
    const insns = decodeProgram(bytes, source);
    assertValid(insns, source);
    return { insns, source };
  });
  programs.push({ insns: compiled.insns, source: "policy program" });
  const stack = checkStackPaths(programs.map((p) => p.insns.length));
  if (stack.length > 0) {
    const f = stack[0]!;
    throw new SyscageError("STACK_TOO_LARGE", `${programs[f.index]!.source}: ${f.message}`);
  }
  return {
    policy,
    compiled,
    programs,
    flags: flagsWord(options.flags ?? policy.flags),
    capabilities,
    privateNetwork: options.privateNetwork === true,
    newSession: policy.routes !== "open",
    landlockNoTcp: policy.network === false,
    sandbox,
  };
}

/** The binary launch description read by native/syscage-exec.c (launch-format.ts has the layout); `record` adds record mode's part. */
export function encodeLaunch(plan: LaunchPlan, record?: RecordPart): Uint8Array {
  let mask = 0n;
  for (const c of plan.capabilities ?? []) mask |= 1n << BigInt(c);
  const options = (plan.capabilities !== null ? OPT_APPLY_CAPS : 0) | (plan.privateNetwork ? OPT_PRIVATE_NETWORK : 0) | (plan.newSession ? OPT_NEW_SESSION : 0) | (plan.landlockNoTcp ? OPT_LANDLOCK_NO_TCP : 0);
  return encodeLaunchDescription({ flags: plan.flags, options, retained: mask }, plan.programs.map((p) => encodeProgram(p.insns)), plan.sandbox, record);
}

export { EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, EXIT_SETUP_FAILED, LaunchError, parseStatusReport } from "./launch-status.js";
