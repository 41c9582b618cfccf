/**
 * Container seccomp profiles → Policy: the OCI runtime-spec `linux.seccomp`
 * object (alone or inside a whole `config.json`), Docker/moby profiles and
 * Podman/containers-common profiles, with the decisions runc + libseccomp
 * give (docs/profiles.md).
 *
 * The conversion follows moby's `setupSeccomp` and runc's filter setup:
 *
 * 1. `archMap` is expanded for the host arch (first entry whose
 *    `architecture` is the host's); `architectures` is used as given. The
 *    policy covers the host ABI plus the listed ABIs the host can run (its
 *    local ABIs, e.g. x86_64 → x86, x32); other listed ABIs are dropped with
 *    a warning, since no call of theirs can reach the filter on this host.
 * 2. Each rule's `excludes` / `includes` are checked in moby's order against
 *    the condition inputs (host arch, capability set, kernel version):
 *    excludes.arches, excludes.caps (ANY held drops), excludes.minKernel,
 *    includes.arches, includes.caps (ALL needed), includes.minKernel.
 * 3. Actions as runc maps them: SCMP_ACT_KILL = KILL_THREAD; ERRNO and TRACE
 *    without `errnoRet` get EPERM; Podman's `errno`/`defaultErrno` (a name or
 *    a number) win over `errnoRet`/`defaultErrnoRet`.
 * 4. A rule whose action equals the default action is skipped (runc does).
 * 5. Several conditions on the SAME argument index in one rule: runc (and
 *    crun) add every condition of that rule as a separate rule, so they are
 *    ORed. A syscage rule ANDs its conditions, so the importer emits one rule
 *    per condition in that case. Conditions on distinct indexes stay ANDed in
 *    one rule.
 * 6. Syscall names unknown on every ABI are skipped with a warning (runc
 *    ignores them); names that exist only on ABIs the policy does not cover
 *    are skipped silently.
 *
 * Arguments are compared by their declared C type (`argumentWidth:
 * "kernel"`, the policy default): a condition on `int family` compares the
 * low 32 bits, the value the kernel uses, so the high-bits bypass that runc +
 * libseccomp leave open (docs/semantics.md, "Argument comparisons") is closed.
 * Where the registers and constants have clean high bits this gives runc's
 * decisions; the condition input `argumentWidth: "u64"` selects runc's
 * whole-register reading instead, bit for bit.
 *
 * Unknown syscall numbers (newer than syscage's tables) get ERRNO(ENOSYS),
 * like runc's "-ENOSYS stub", unless the default action is permissive
 * (ALLOW, LOG, TRACE), in which case they get the default action. The bad-arch
 * action is KILL_PROCESS (libseccomp's is KILL_THREAD; no call of an uncovered
 * arch can happen on the host anyway).
 */
import { schemaValidators } from "../deps.js";
import { readInputText } from "../read-file.js";
import { release } from "node:os";
import type { ErrorObject, ValidateFunction } from "ajv/dist/2020.js";
import type { Node } from "jsonc-parser";
import { hostAbi, localAbis, parseAbi, type AbiName } from "../abi/arch.js";
import { CAPABILITY_NAMES, capabilityName, parseCapability } from "../abi/capabilities.js";
import { errnoNumber, ERRNO_MAX } from "../abi/errno.js";
import { abisWithSyscall, knownSyscallNames } from "../abi/tables.js";
import { SyscageError, didYouMean, suggest, type ErrorCode } from "../errors.js";
import { looksLikeSpoYaml, spoSpec } from "./spo.js";
import { actionRet } from "./evaluate.js";
import {
  checkDuplicates,
  exactU64,
  field,
  formatJsonPath,
  parseJsonDocument,
  pickError,
  plainValue,
  propertyNode,
  relocate,
  schemaError,
  str,
  where,
  type Doc,
  type PathSegment,
} from "./jsontree.js";
import {
  KILL_PROCESS,
  definePolicy,
  errno,
  parseAction,
  type Action,
  type ArgumentWidthMode,
  type ConditionInput,
  type FilterFlag,
  type Operator,
  type Policy,
  type RuleInput,
} from "./model.js";

/** Where the JSON Schema of the profile format lives (`docs/profile.schema.json`). */
export const PROFILE_SCHEMA_URL: URL = new URL("../../docs/profile.schema.json", import.meta.url);

/** Docker's default container capabilities (moby `oci/caps/defaults.go`): the default capability set of the importer. */
export const DOCKER_DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
]);

/** The inputs a profile's `includes`/`excludes` depend on; each has a default. */
export interface ProfileConditions {
  /** The host the container runs on (any spelling). Default: this machine. */
  readonly hostArch?: AbiName | string;
  /** The container's (bounding) capability set, names or numbers. Default: {@link DOCKER_DEFAULT_CAPABILITIES}. */
  readonly capabilities?: readonly (string | number)[];
  /** The host kernel release (`uname -r`, e.g. "6.1.0-18-amd64"); only major.minor count. Default: the running kernel. */
  readonly kernel?: string;
  /** Action for syscall numbers unknown to syscage's tables. Default: ERRNO(ENOSYS), or the default action when that is ALLOW, LOG or TRACE. */
  readonly unknown?: Action | string;
  /** Action for calls of architectures the policy does not cover. Default: KILL_PROCESS. */
  readonly badArch?: Action | string;
  /**
   * How conditions read an argument (see `Policy.argumentWidth`). Default:
   * `"kernel"`, the declared C type's width, which closes the high-bits
   * bypass; `"u64"`: every register bit, as runc + libseccomp compare.
   */
  readonly argumentWidth?: ArgumentWidthMode;
}

/** What the importer did, for reports and tests. */
export interface ProfileStats {
  /** Rule entries in the profile. */
  readonly entries: number;
  /** Entries dropped by includes/excludes. */
  readonly dropped: number;
  /** Entries whose conditions were split into one rule each (several on one argument). */
  readonly split: number;
  /** Rules skipped because their action equals the default action. */
  readonly sameAsDefault: number;
  /** Names skipped: unknown on every ABI. */
  readonly unknownNames: readonly string[];
  /** Names skipped: they exist only on ABIs the policy does not cover. */
  readonly otherAbiNames: readonly string[];
}

/** The result of importing a profile. */
export interface ImportedProfile {
  readonly policy: Policy;
  /** Things a user should know (unknown fields, unknown syscall names, dropped arches), one line each with file, line and JSON path. */
  readonly warnings: readonly string[];
  readonly stats: ProfileStats;
  /** The host ABI the profile was expanded for. */
  readonly hostArch: AbiName;
}

// ---- schema ----------------------------------------------------------------------

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  // Compiled from docs/profile.schema.json when the package is built (scripts/gen-validators.ts): no schema compiles at run time.
  return (validator ??= schemaValidators().validateProfileSchema);
}

const CODES = { schema: "PROFILE_SCHEMA", unknownField: "PROFILE_UNKNOWN_FIELD" } as const;

// ---- condition inputs ------------------------------------------------------------------

/**
 * The spellings of an ABI that moby's and Podman's `includes.arches` /
 * `excludes.arches` use for it (moby's `goToNative` names and libseccomp-golang's
 * names; both loongarch and mipsel spellings).
 */
export const PROFILE_ARCH_NAMES: Readonly<Record<AbiName, readonly string[]>> = {
  x86: ["x86"],
  x86_64: ["amd64"],
  x32: ["x32"],
  arm: ["arm"],
  aarch64: ["arm64"],
  loongarch64: ["loongarch64", "loong64"],
  m68k: ["m68k"],
  mips: ["mips"],
  mipsel: ["mipsel", "mipsle"],
  mips64: ["mips64"],
  mipsel64: ["mipsel64"],
  mips64n32: ["mips64n32"],
  mipsel64n32: ["mipsel64n32", "mips3l64n32"],
  parisc: ["parisc"],
  parisc64: ["parisc64"],
  ppc: ["ppc"],
  ppc64: ["ppc64"],
  ppc64le: ["ppc64le"],
  riscv64: ["riscv64"],
  s390: ["s390"],
  s390x: ["s390x"],
  sh: ["sh"],
  sheb: ["sheb"],
};

const ALL_PROFILE_ARCH_NAMES: ReadonlySet<string> = new Set(Object.values(PROFILE_ARCH_NAMES).flat());

/** `major.minor` of a kernel release such as "6.1.0-18-amd64" or "3.12.25-gentoo". */
export function parseKernelRelease(text: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text.trim());
  if (m === null) throw new SyscageError("BAD_KERNEL", `--kernel: cannot read kernel version "${text}"; write MAJOR.MINOR, e.g. 6.1 or 4.4.0-210-generic`);
  return [Number(m[1]), Number(m[2])];
}

/** moby's minKernel syntax: exactly `MAJOR.MINOR`, each 0..255, not "0.0". */
function parseMinKernel(text: string, w: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(text);
  const bad = (): never => {
    throw new SyscageError("PROFILE_SCHEMA", `${w}: invalid kernel version "${text}"; write MAJOR.MINOR such as "4.8" (each 0..255, not 0.0)`);
  };
  if (m === null) return bad();
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (a > 255 || b > 255 || (a === 0 && b === 0)) return bad();
  return [a, b];
}

function kernelAtLeast(have: [number, number], want: [number, number]): boolean {
  return have[0] !== want[0] ? have[0] > want[0] : have[1] >= want[1];
}

// ---- reading ---------------------------------------------------------------------------

interface Ctx {
  readonly doc: Doc;
  readonly warnings: string[];
  readonly host: AbiName;
  readonly caps: ReadonlySet<string>;
  readonly kernel: [number, number];
}

function fail(ctx: Ctx, node: Node | undefined, path: readonly PathSegment[], code: ErrorCode, message: string): never {
  throw new SyscageError(code, `${where(ctx.doc, node, path)}: ${message}`);
}

function warn(ctx: Ctx, node: Node | undefined, path: readonly PathSegment[], message: string): void {
  ctx.warnings.push(`${where(ctx.doc, node, path)}: ${message}`);
}

function strings(node: Node | undefined): { value: string; node: Node }[] {
  if (node?.type !== "array") return [];
  return (node.children ?? []).map((n) => ({ value: str(n), node: n }));
}

/** An errno given as Podman's `errno`/`defaultErrno` text: a name or a decimal number. */
function errnoText(ctx: Ctx, node: Node, path: readonly PathSegment[]): number | string {
  const t = str(node).trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n > ERRNO_MAX) fail(ctx, node, path, "BAD_ERRNO", `errno ${t} is out of range 0..${ERRNO_MAX}`);
    return n;
  }
  const name = t.toUpperCase();
  const known = (["x86_64", "mips", "parisc", "ppc"] as const).some((a) => errnoNumber(a, name) !== undefined);
  if (!known) fail(ctx, node, path, "BAD_ERRNO", `unknown errno "${t}"; use a name such as EPERM or a number 0..${ERRNO_MAX}`);
  return name;
}

/** The action of a rule or of the default, with runc's errno defaults. */
function actionOf(ctx: Ctx, obj: Node, path: readonly PathSegment[], actionKey: string, retKey: string, textKey: string): Action {
  const actNode = field(obj, actionKey)!;
  const act = str(actNode).replace(/^SCMP_ACT_/, "");
  const retNode = field(obj, retKey);
  const textNode = field(obj, textKey);
  const ret = retNode === undefined ? undefined : (retNode.value as number);
  const text = textNode === undefined ? undefined : errnoText(ctx, textNode, [...path, textKey]);
  if (act !== "ERRNO" && act !== "TRACE") {
    if (retNode !== undefined) fail(ctx, retNode, [...path, retKey], "PROFILE_SCHEMA", `${retKey} is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE (the action is ${str(actNode)})`);
    if (textNode !== undefined) fail(ctx, textNode, [...path, textKey], "PROFILE_SCHEMA", `${textKey} is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE (the action is ${str(actNode)})`);
    return parseAction(act, where(ctx.doc, actNode, [...path, actionKey]));
  }
  if (text !== undefined && ret !== undefined) {
    const n = typeof text === "number" ? text : errnoNumber(ctx.host, text);
    if (n !== ret) warn(ctx, retNode, [...path, retKey], `${retKey} ${ret} differs from ${textKey} "${str(textNode)}"; ${textKey} wins (as in Podman)`);
  }
  const value = text ?? ret ?? "EPERM";
  if (act === "ERRNO") {
    if (typeof value === "number" && value > ERRNO_MAX) fail(ctx, retNode, [...path, retKey], "BAD_ERRNO", `errno ${value} is out of range 0..${ERRNO_MAX}`);
    return errno(value);
  }
  const data = typeof value === "number" ? value : errnoNumber(ctx.host, value);
  if (data === undefined || data > 0xffff) fail(ctx, retNode ?? textNode, [...path, retKey], "BAD_ACTION", `SCMP_ACT_TRACE data ${String(value)} is out of range 0..65535`);
  return { kind: "TRACE", data };
}

/** Does an `arches` list name the host? Unknown names get a warning (they never match). */
function archesMatch(ctx: Ctx, list: Node, path: readonly PathSegment[]): boolean {
  let hit = false;
  strings(list).forEach(({ value, node }, j) => {
    if (PROFILE_ARCH_NAMES[ctx.host].includes(value)) hit = true;
    else if (!ALL_PROFILE_ARCH_NAMES.has(value)) {
      const s = suggest(value, ALL_PROFILE_ARCH_NAMES);
      warn(ctx, node, [...path, j], `unknown architecture "${value}" never matches.${didYouMean(s)} Profiles use moby's names (amd64, arm64, x86, s390x, …)`);
    }
  });
  return hit;
}

function capsOf(ctx: Ctx, list: Node, path: readonly PathSegment[]): string[] {
  return strings(list).map(({ value, node }, j) => {
    const upper = value.trim().toUpperCase();
    if (!CAPABILITY_NAMES.includes(upper)) {
      const s = suggest(upper, CAPABILITY_NAMES);
      warn(ctx, node, [...path, j], `unknown capability "${value}".${didYouMean(s)}`);
    }
    return upper;
  });
}

/** moby's include/exclude rules: does entry `node` apply? (Validates minKernel either way.) */
function applies(ctx: Ctx, node: Node, path: readonly PathSegment[]): boolean {
  const ex = field(node, "excludes");
  const inc = field(node, "includes");
  const minK = (f: Node | undefined, key: string): [number, number] | undefined => {
    const n = field(f, "minKernel");
    if (n === undefined || str(n) === "") return undefined;
    return parseMinKernel(str(n), where(ctx.doc, n, [...path, key, "minKernel"]));
  };
  const exK = minK(ex, "excludes");
  const incK = minK(inc, "includes");
  const exArches = field(ex, "arches");
  const exCaps = field(ex, "caps");
  const incArches = field(inc, "arches");
  const incCaps = field(inc, "caps");
  const exArchHit = exArches !== undefined && archesMatch(ctx, exArches, [...path, "excludes", "arches"]);
  const incArchHit = incArches === undefined || strings(incArches).length === 0 || archesMatch(ctx, incArches, [...path, "includes", "arches"]);
  const exCapList = exCaps === undefined ? [] : capsOf(ctx, exCaps, [...path, "excludes", "caps"]);
  const incCapList = incCaps === undefined ? [] : capsOf(ctx, incCaps, [...path, "includes", "caps"]);
  if (exArchHit) return false;
  if (exCapList.some((c) => ctx.caps.has(c))) return false;
  if (exK !== undefined && kernelAtLeast(ctx.kernel, exK)) return false;
  if (!incArchHit) return false;
  if (!incCapList.every((c) => ctx.caps.has(c))) return false;
  if (incK !== undefined && !kernelAtLeast(ctx.kernel, incK)) return false;
  return true;
}

const OPS: Readonly<Record<string, Operator>> = {
  SCMP_CMP_NE: "NE",
  SCMP_CMP_LT: "LT",
  SCMP_CMP_LE: "LE",
  SCMP_CMP_EQ: "EQ",
  SCMP_CMP_GE: "GE",
  SCMP_CMP_GT: "GT",
  SCMP_CMP_MASKED_EQ: "MASKED_EQ",
};

function conditionOf(ctx: Ctx, node: Node, path: readonly PathSegment[]): ConditionInput {
  const arg = field(node, "index")!.value as number;
  const op = OPS[str(field(node, "op"))]!;
  const value = exactU64(ctx.doc, field(node, "value")!, [...path, "value"]);
  const twoNode = field(node, "valueTwo");
  const two = twoNode === undefined ? 0n : exactU64(ctx.doc, twoNode, [...path, "valueTwo"]);
  if (op === "MASKED_EQ") {
    // runc and crun hand the pair to libseccomp, which compares (arg & mask) == (value & mask): do as they do.
    const inMask = two & value;
    if (inMask !== two) {
      const hex = (v: bigint): string => `0x${v.toString(16)}`;
      warn(ctx, twoNode, [...path, "valueTwo"], `SCMP_CMP_MASKED_EQ: valueTwo ${hex(two)} has bits outside the mask ${hex(value)}; runc and crun (libseccomp) compare (arg & mask) == (valueTwo & mask), so the rule tests arg${arg} & ${hex(value)} == ${hex(inMask)}, as they do (write valueTwo ${hex(inMask)} to say so)`);
    }
    return { arg, op, mask: value, value: inMask };
  }
  if (two !== 0n) warn(ctx, twoNode, [...path, "valueTwo"], `valueTwo is used only by SCMP_CMP_MASKED_EQ; ignored for ${str(field(node, "op"))}`);
  return { arg, op, value };
}

/** The SCMP_ARCH_* name → ABI (SCMP_ARCH_NATIVE → the host). */
function scmpAbi(ctx: Ctx, name: string): AbiName {
  return name === "SCMP_ARCH_NATIVE" ? ctx.host : parseAbi(name);
}

/** The ABIs the policy covers: host first, then the listed ones that are local to it. */
function policyAbis(ctx: Ctx, root: Node, prefix: readonly PathSegment[]): AbiName[] {
  const archNode = field(root, "architectures");
  const mapNode = field(root, "archMap");
  const listed: { abi: AbiName; node: Node; path: PathSegment[] }[] = [];
  const hasList = archNode?.type === "array" && (archNode.children ?? []).length > 0;
  const hasMap = mapNode?.type === "array" && (mapNode.children ?? []).length > 0;
  if (hasList && hasMap) {
    fail(ctx, propertyNode(root, "archMap"), [...prefix, "archMap"], "PROFILE_SCHEMA", `"architectures" and "archMap" are both set; use one (moby refuses such a profile)`);
  }
  if (hasList) {
    strings(archNode).forEach(({ value, node }, j) => listed.push({ abi: scmpAbi(ctx, value), node, path: [...prefix, "architectures", j] }));
  } else if (hasMap) {
    const entry = (mapNode.children ?? []).findIndex((e) => scmpAbi(ctx, str(field(e, "architecture"))) === ctx.host);
    if (entry >= 0) {
      const e = mapNode.children![entry]!;
      const arch = field(e, "architecture")!;
      listed.push({ abi: scmpAbi(ctx, str(arch)), node: arch, path: [...prefix, "archMap", entry, "architecture"] });
      strings(field(e, "subArchitectures")).forEach(({ value, node }, j) =>
        listed.push({ abi: scmpAbi(ctx, value), node, path: [...prefix, "archMap", entry, "subArchitectures", j] }),
      );
    }
  }
  const local = localAbis(ctx.host);
  const out: AbiName[] = [ctx.host];
  for (const l of listed) {
    if (!local.includes(l.abi)) {
      warn(ctx, l.node, l.path, `${str(l.node)} cannot run on a ${ctx.host} host (its ABIs: ${local.join(", ")}); not covered`);
      continue;
    }
    if (!out.includes(l.abi)) out.push(l.abi);
  }
  return out;
}

const FLAGS: Readonly<Record<string, FilterFlag>> = {
  SECCOMP_FILTER_FLAG_TSYNC: "TSYNC",
  SECCOMP_FILTER_FLAG_LOG: "LOG",
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: "SPEC_ALLOW",
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: "WAIT_KILLABLE_RECV",
};

/** Validate with the schema: unknown fields become warnings; any other violation is an error. */
function validate(ctx: Ctx, root: Node, prefix: readonly PathSegment[]): void {
  const v = getValidator();
  if (v(plainValue(root)) === true) return;
  const errors: readonly ErrorObject[] = v.errors ?? [];
  const unknown = errors.filter((e) => e.keyword === "additionalProperties");
  const hard = errors.filter((e) => e.keyword !== "additionalProperties");
  const unknownMessages = unknown.map((e) => schemaError(ctx.doc, root, e, CODES, prefix).message);
  if (hard.length > 0) {
    const err = schemaError(ctx.doc, root, pickError(root, hard), CODES, prefix);
    // A misspelt field often explains a missing one: mention it.
    const typo = unknownMessages.find((m) => m.includes("Did you mean"));
    throw new SyscageError(err.code, typo === undefined ? err.message : `${err.message} (also: ${typo.replace(/^[^:]*:\d+: /, "")})`, err.suggestions);
  }
  for (const m of unknownMessages) ctx.warnings.push(`${m}; ignored`);
}

/** Find the seccomp object: the root, or `linux.seccomp` of a whole OCI config.json. */
function seccompNode(doc: Doc, root: Node): { node: Node; prefix: PathSegment[] } {
  if (root.type !== "object") {
    throw new SyscageError("PROFILE_SCHEMA", `${doc.source}:1: (top level): a seccomp profile is a JSON object with "defaultAction", or an OCI config.json with "linux.seccomp"`);
  }
  if (field(root, "defaultAction") === undefined && (field(root, "ociVersion") !== undefined || field(root, "linux") !== undefined)) {
    const linux = field(root, "linux");
    const sec = field(linux, "seccomp");
    if (sec === undefined) {
      throw new SyscageError("PROFILE_SCHEMA", `${where(doc, linux ?? root, linux === undefined ? [] : ["linux"])}: this OCI config.json has no "linux.seccomp" object`);
    }
    return { node: sec, prefix: ["linux", "seccomp"] };
  }
  return { node: root, prefix: [] };
}

/**
 * Import a container seccomp profile from JSON text. `source` names the text
 * in messages and rule origins (`SOURCE syscalls[3] (comment)`).
 *
 * Throws SyscageError (PROFILE_SYNTAX, PROFILE_SCHEMA with `FILE:LINE: JSON
 * path: message`, BAD_ERRNO, UNKNOWN_CAPABILITY, …); returns the warnings.
 */
export function parseProfile(text: string, source: string, conditions: ProfileConditions = {}): ImportedProfile {
  // A Kubernetes SeccompProfile (YAML): its spec, as JSON whose lines map back to the YAML's (spo.ts).
  const spo = looksLikeSpoYaml(text) ? spoSpec(text, source) : undefined;
  const { doc, root: top } = parseJsonDocument(spo?.json ?? text, source, "PROFILE_SYNTAX", 'a seccomp profile is a JSON object such as {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}', spo?.lines);
  checkDuplicates(doc, top, [], "PROFILE_DUPLICATE_FIELD");
  const { node: root, prefix } = seccompNode(doc, top);
  let host: AbiName;
  try {
    host = conditions.hostArch === undefined ? hostAbi() : parseAbi(String(conditions.hostArch));
  } catch (err) {
    return relocate(err, "--host-arch");
  }
  const caps = new Set<string>();
  for (const c of conditions.capabilities ?? DOCKER_DEFAULT_CAPABILITIES) {
    try {
      caps.add(capabilityName(typeof c === "number" ? c : parseCapability(c))!);
    } catch (err) {
      relocate(err, "--capability");
    }
  }
  const ctx: Ctx = { doc, warnings: [], host, caps, kernel: parseKernelRelease(conditions.kernel ?? release()) };
  validate(ctx, root, prefix);
  const at = (path: readonly PathSegment[]): PathSegment[] => [...prefix, ...path];

  const listenerPath = field(root, "listenerPath");
  const listenerMeta = field(root, "listenerMetadata");
  if (listenerMeta !== undefined && listenerPath === undefined) {
    fail(ctx, listenerMeta, at(["listenerMetadata"]), "PROFILE_SCHEMA", `listenerMetadata must not be set without listenerPath`);
  }
  const abis = policyAbis(ctx, root, prefix);
  const dflt = actionOf(ctx, root, at([]), "defaultAction", "defaultErrnoRet", "defaultErrno");
  const permissive = dflt.kind === "ALLOW" || dflt.kind === "LOG" || dflt.kind === "TRACE";
  const flags = strings(field(root, "flags")).map(({ value }) => FLAGS[value]!);

  const rules: RuleInput[] = [];
  const unknownNames = new Set<string>();
  const otherAbiNames = new Set<string>();
  let dropped = 0;
  let split = 0;
  let sameAsDefault = 0;
  let notify = false;
  const entries = field(root, "syscalls")?.type === "array" ? field(root, "syscalls")!.children ?? [] : [];
  entries.forEach((node, i) => {
    const path = at(["syscalls", i]);
    const nameNode = field(node, "name");
    const namesNode = field(node, "names");
    const list = strings(namesNode);
    if (nameNode !== undefined && namesNode !== undefined && namesNode.type !== "null") {
      fail(ctx, propertyNode(node, "name"), path, "PROFILE_SCHEMA", `"name" and "names" are both set; use "names" (moby and Podman refuse such a profile)`);
    }
    if (nameNode === undefined && list.length === 0) {
      fail(ctx, node, path, "PROFILE_SCHEMA", `names no syscall; give "names": ["…"]`);
    }
    const action = actionOf(ctx, node, path, "action", "errnoRet", "errno");
    const argsNode = field(node, "args");
    const conds = argsNode?.type === "array" ? (argsNode.children ?? []).map((c, j) => conditionOf(ctx, c, [...path, "args", j])) : [];
    if (!applies(ctx, node, path)) {
      dropped++;
      return;
    }
    if (action.kind === "NOTIFY") notify = true;
    if (actionRet(action, host) === actionRet(dflt, host)) {
      sameAsDefault++;
      return;
    }
    const perArg = new Map<number, number>();
    for (const c of conds) perArg.set(c.arg ?? -1, (perArg.get(c.arg ?? -1) ?? 0) + 1);
    const groups = [...perArg.values()].some((n) => n > 1) ? conds.map((c) => [c]) : [conds];
    if (groups.length > 1) split++;
    const comment = field(node, "comment");
    const origin = `${source} ${formatJsonPath(path)}${comment !== undefined && str(comment).trim() !== "" ? ` (${str(comment).trim()})` : ""}`;
    const names = nameNode !== undefined ? [{ value: str(nameNode), node: nameNode }] : list;
    for (const { value: name, node: n } of names) {
      if (!knownSyscallNames().has(name)) {
        if (!unknownNames.has(name)) {
          const s = suggest(name, knownSyscallNames());
          warn(ctx, n, nameNode !== undefined ? [...path, "name"] : [...path, "names", names.findIndex((x) => x.node === n)], `unknown syscall "${name}" (not on any ABI in syscage's Linux tables); ignored.${didYouMean(s)}`);
        }
        unknownNames.add(name);
        continue;
      }
      if (!abisWithSyscall(name).some((a) => abis.includes(a))) {
        otherAbiNames.add(name);
        continue;
      }
      for (const g of groups) rules.push({ syscall: name, action, conditions: g, origin });
    }
  });
  if (notify && listenerPath === undefined) {
    warn(ctx, root, at([]), "SCMP_ACT_NOTIFY is used but listenerPath is not set; the runtime has nowhere to send the notify fd");
  }
  if (notify && !flags.includes("NEW_LISTENER")) flags.push("NEW_LISTENER");
  let policy: Policy;
  try {
    policy = definePolicy({
      origin: source,
      rules,
      default: dflt,
      unknown: conditions.unknown ?? (permissive ? dflt : errno("ENOSYS")),
      badArch: conditions.badArch ?? KILL_PROCESS,
      abis,
      flags,
      // runc + libseccomp compare whole argument registers; by default we
      // compare what the kernel uses (the declared C type's low bits).
      argumentWidth: conditions.argumentWidth ?? "kernel",
    });
  } catch (err) {
    return relocate(err, source);
  }
  const listener = listenerPath === undefined ? undefined : listenerMeta === undefined ? { path: str(listenerPath) } : { path: str(listenerPath), metadata: str(listenerMeta) };
  return {
    policy: listener === undefined ? policy : { ...policy, listener },
    warnings: ctx.warnings,
    hostArch: host,
    stats: {
      entries: entries.length,
      dropped,
      split,
      sameAsDefault,
      unknownNames: [...unknownNames],
      otherAbiNames: [...otherAbiNames],
    },
  };
}

/** Read and import a profile file (see {@link parseProfile}); file-system errors are thrown as they come. */
export function readProfileFile(path: string, conditions: ProfileConditions = {}): ImportedProfile {
  return parseProfile(readInputText(path, "profile"), path, conditions);
}
