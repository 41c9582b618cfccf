/**
 * Generates `src/abi/generated/argtypes.ts` — each syscall argument's name, C
 * type, width and signedness per ABI — from
 * `../shared/data/linux-syscalls/syscall-arg-types.json` (Linux v7.3-rc7,
 * method in that folder's SOURCES.md) and the `syscall*.tbl` entry points.
 *
 *   npx tsx scripts/gen-argtypes.ts          # write the file
 *   npx tsx scripts/gen-argtypes.ts --check  # exit 1 when the committed file is stale
 *
 * How each ABI's table names are tied to a definition:
 *
 * - x86_64: the data's own `x86_64_table` (entry point → definition).
 * - x86 (ia32): the data's `x86_ia32_entry_points` (the entry points of a
 *   64-bit kernel); every width is capped at 32, since the ia32 stubs cut
 *   every register to 32 bits (`__SC_COMPAT_CAST`).
 * - every other ABI: the entry-point columns of its `.tbl` (the same
 *   selection as scripts/gen-tables.ts). `sys_X` is looked up in the
 *   architecture's own definitions, then the generic ones; `compat_sys_X` in
 *   the compat ones. Types are re-resolved for the ABI from their typedefs
 *   (`typedefs.*.differs_on`, `base_types.*.ilp32_bits`, pointer size).
 * - 32-bit ABIs (x86, arm, mips o32, ppc, s390, m68k, sh, parisc): every
 *   candidate entry (the native one for a 32-bit kernel with the ILP32 widths,
 *   the compat one for a 64-bit kernel with its widths) is considered and the
 *   WIDEST width wins (never narrower than the kernel uses), capped at 32.
 *   A 64-bit scalar (loff_t, u64) in a native 32-bit definition takes two
 *   registers with ABI-specific padding, so the arguments from it on get no
 *   data (register width).
 * - A name with several definitions (MMU/nommu, posix-timers stubs, …) takes
 *   the widest width of each argument over all of them; `clone` takes the
 *   variant its architecture's Kconfig selects (CLONE_BACKWARDS on arm, arm64
 *   compat, mips, parisc, powerpc, riscv; CLONE_BACKWARDS2 on s390; ia32 uses
 *   `compat_sys_ia32_clone`).
 * - A name with no definition (asmlinkage-only calls, `sys_ni_syscall`) has
 *   no data: the compiler uses the register width for it.
 *
 * Output: x86_64's map in full, every other ABI only where it differs from
 * x86_64's (after the 32-bit cap, which `src/abi/argtypes.ts` applies).
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ABI_NAMES, getAbi, type AbiName } from "../src/abi/arch.js";
import { SYSCALL_NUMBERS } from "../src/abi/generated/syscalls.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_DATA_DIR = path.resolve(REPO_ROOT, "../shared/data");
const OUTPUT_FILE = "src/abi/generated/argtypes.ts";

// ---- the data file's shape -----------------------------------------------------

interface JArg {
  name: string;
  type: string;
  bits: number;
  signed: boolean;
  pointer?: boolean;
  differs_on?: Record<string, { bits: number; signed: boolean }>;
  split64?: unknown;
}
interface JDef {
  args: JArg[];
  conditions?: string[];
  other_definitions?: JDef[];
  other_definitions_same_types?: boolean;
}
interface JTypedef {
  bits: number;
  signed: boolean;
  pointer?: boolean;
  differs_on?: Record<string, { bits: number; signed: boolean }>;
}
interface JData {
  kernel: string;
  syscalls: Record<string, JDef>;
  compat: Record<string, JDef>;
  arch_specific: Record<string, { syscalls: Record<string, JDef>; compat?: Record<string, JDef> }>;
  typedefs: Record<string, JTypedef>;
  base_types: Record<string, { bits: number; signed: boolean; ilp32_bits?: number }>;
  x86_64_table: { name: string; definition: string | null; in?: string }[];
  x86_ia32_entry_points: Record<string, { definition: string; in: string }>;
}

// ---- per-ABI sources -------------------------------------------------------------

type CloneVariant = "default" | "backwards" | "backwards2";

interface Source {
  readonly file: string;
  readonly keep?: readonly string[];
  /** arch/ directory key in `arch_specific`. */
  readonly arch?: string;
  /** Type probe of the kernel that runs the ABI natively (64-bit regs) or as a 64-bit kernel's compat ABI. */
  readonly probe64?: string;
  /** Type probe of a native 32-bit kernel (ILP32), for 32-bit ABIs. */
  readonly probe32?: string;
  readonly clone: CloneVariant;
}

/** Same table selections as scripts/gen-tables.ts. */
const SOURCES: Readonly<Record<Exclude<AbiName, "x86_64" | "x86">, Source>> = {
  x32: { file: "x86-syscall_64.tbl", keep: ["common", "x32"], arch: "x86", probe64: "x86_64", clone: "default" },
  arm: { file: "arm-syscall.tbl", keep: ["common", "eabi"], probe64: "arm64", probe32: "arm", clone: "backwards" },
  aarch64: { file: "generic-syscall.tbl", keep: ["common", "64", "renameat", "rlimit", "memfd_secret"], arch: "arm64", probe64: "arm64", clone: "backwards" },
  loongarch64: { file: "generic-syscall.tbl", keep: ["common", "64", "memfd_secret"], arch: "loongarch", probe64: "loongarch64", clone: "default" },
  m68k: { file: "m68k-syscall.tbl", probe32: "m68k", clone: "default" },
  mips: { file: "mips-syscall_o32.tbl", arch: "mips", probe64: "mips64", probe32: "mips32", clone: "backwards" },
  mipsel: { file: "mips-syscall_o32.tbl", arch: "mips", probe64: "mips64", probe32: "mips32", clone: "backwards" },
  mips64: { file: "mips-syscall_n64.tbl", arch: "mips", probe64: "mips64", clone: "backwards" },
  mipsel64: { file: "mips-syscall_n64.tbl", arch: "mips", probe64: "mips64", clone: "backwards" },
  mips64n32: { file: "mips-syscall_n32.tbl", arch: "mips", probe64: "mips64", clone: "backwards" },
  mipsel64n32: { file: "mips-syscall_n32.tbl", arch: "mips", probe64: "mips64", clone: "backwards" },
  parisc: { file: "parisc-syscall.tbl", keep: ["common", "32"], arch: "parisc", probe64: "parisc64", probe32: "parisc32", clone: "backwards" },
  parisc64: { file: "parisc-syscall.tbl", keep: ["common", "64"], arch: "parisc", probe64: "parisc64", clone: "backwards" },
  ppc: { file: "powerpc-syscall.tbl", keep: ["common", "nospu", "32"], arch: "powerpc", probe64: "powerpc64", probe32: "powerpc32", clone: "backwards" },
  ppc64: { file: "powerpc-syscall.tbl", keep: ["common", "nospu", "64"], arch: "powerpc", probe64: "powerpc64", clone: "backwards" },
  ppc64le: { file: "powerpc-syscall.tbl", keep: ["common", "nospu", "64"], arch: "powerpc", probe64: "powerpc64", clone: "backwards" },
  riscv64: { file: "generic-syscall.tbl", keep: ["common", "64", "riscv", "rlimit", "memfd_secret"], arch: "riscv", probe64: "riscv64", clone: "backwards" },
  s390: { file: "s390-syscall.v6.12.tbl", keep: ["common", "32"], arch: "s390", probe64: "s390x", clone: "backwards2" },
  s390x: { file: "s390-syscall.tbl", keep: ["common"], arch: "s390", probe64: "s390x", clone: "backwards2" },
  sh: { file: "sh-syscall.tbl", arch: "sh", probe32: "sh", clone: "default" },
  sheb: { file: "sh-syscall.tbl", arch: "sh", probe32: "sh", clone: "default" },
};

/** Probes whose `long` and pointers are 32 bits. */
const ILP32 = new Set(["i386", "arm", "powerpc32", "mips32", "riscv32", "sparc32", "parisc32", "m68k", "sh", "microblaze", "xtensa", "arc", "csky", "hexagon", "nios2", "openrisc"]);

// ---- resolution ------------------------------------------------------------------

/** One resolved argument. */
interface Arg {
  name: string;
  type: string;
  bits: number;
  signed: boolean;
}

/** undefined = no data for this argument (register width). */
type Sig = (Arg | undefined)[] | undefined;

/** The argument's width and sign for a type probe (undefined: the data's own, x86_64 unless stated). */
function resolveArg(data: JData, a: JArg, probe: string | undefined): Arg {
  const base: Arg = { name: a.name, type: a.type, bits: a.bits, signed: a.signed };
  if (probe === undefined || probe === "x86_64") return base;
  const ilp32 = ILP32.has(probe);
  if (a.pointer === true) return { ...base, bits: ilp32 ? 32 : 64 };
  const t = a.type.replace(/^const\s+/, "");
  const td = data.typedefs[t];
  if (td !== undefined) {
    const d = td.differs_on?.[probe];
    return d !== undefined ? { ...base, bits: d.bits, signed: d.signed } : { ...base, bits: td.bits, signed: td.signed };
  }
  const bt = data.base_types[t];
  if (bt !== undefined) return { ...base, bits: ilp32 ? (bt.ilp32_bits ?? bt.bits) : bt.bits, signed: bt.signed };
  const d = a.differs_on?.[probe];
  return d !== undefined ? { ...base, bits: d.bits, signed: d.signed } : base;
}

/** Definitions a name can stand for on an ABI (clone: the Kconfig variant). */
function variants(def: JDef, clone: CloneVariant, name: string): JDef[] {
  const all = [def, ...(def.other_definitions ?? [])];
  if (name !== "clone") return all;
  const conds = (d: JDef): string[] => (d.conditions ?? []).map((c) => c.replace(/\s+/g, " "));
  const pick =
    clone === "default"
      ? all.find((d) => conds(d).some((c) => /^!defined\(CONFIG_CLONE_BACKWARDS\) && !defined\(CONFIG_CLONE_BACKWARDS2\) && !defined\(CONFIG_CLONE_BACKWARDS3\)$/.test(c)))
      : clone === "backwards"
        ? all.find((d) => conds(d).includes("defined(CONFIG_CLONE_BACKWARDS)"))
        : all.find((d) => conds(d).some((c) => /^!defined\(CONFIG_CLONE_BACKWARDS\) && defined\(CONFIG_CLONE_BACKWARDS2\)$/.test(c)));
  if (pick === undefined) throw new Error(`clone: no ${clone} variant in the data`);
  return [pick];
}

/**
 * Signature of a set of candidate definitions: per argument, the widest width;
 * name and type from the first. `split32` stops at a 64-bit scalar (native
 * 32-bit definitions pass it in two registers).
 */
function merge(data: JData, cands: { def: JDef; probe: string | undefined; split32: boolean }[]): Sig {
  if (cands.length === 0) return undefined;
  const rows: (Arg | undefined)[][] = cands.map(({ def, probe, split32 }) => {
    const out: (Arg | undefined)[] = [];
    let lost = false;
    for (const a of def.args) {
      const r = resolveArg(data, a, probe);
      if (split32 && a.pointer !== true && r.bits === 64 && a.split64 === undefined) lost = true;
      out.push(lost ? undefined : r);
    }
    return out;
  });
  const n = Math.max(...rows.map((r) => r.length));
  const sig: (Arg | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    let best: Arg | undefined;
    let unknown = false;
    for (const r of rows) {
      const a = r[i];
      if (i >= r.length) continue;
      if (a === undefined) {
        unknown = true;
        continue;
      }
      if (best === undefined) best = a;
      else if (a.bits > best.bits) best = { ...best, bits: a.bits, signed: a.signed };
      else if (a.bits === best.bits && a.signed !== best.signed) best = { ...best, signed: false };
    }
    sig.push(unknown ? undefined : best);
  }
  return sig;
}

function lookupEntry(data: JData, sym: string, arch: string | undefined): { name: string; def: JDef } | undefined {
  let m = /^compat_sys_(\w+)$/.exec(sym);
  if (m !== null) {
    const n = m[1]!;
    const def = (arch !== undefined ? data.arch_specific[arch]?.compat?.[n] : undefined) ?? data.compat[n];
    return def === undefined ? undefined : { name: n, def };
  }
  m = /^(?:__)?sys_(\w+)$/.exec(sym);
  if (m === null) return undefined;
  const n = m[1]!;
  if (n === "ni_syscall") return undefined;
  const def = (arch !== undefined ? data.arch_specific[arch]?.syscalls[n] : undefined) ?? data.syscalls[n];
  return def === undefined ? undefined : { name: n, def };
}

function defByPath(data: JData, where: string, name: string): JDef | undefined {
  if (where === "syscalls") return data.syscalls[name];
  if (where === "compat") return data.compat[name];
  const m = /^arch_specific\.(\w+)\.(syscalls|compat)$/.exec(where);
  if (m === null) throw new Error(`unknown location ${where}`);
  const a = data.arch_specific[m[1]!];
  return m[2] === "syscalls" ? a?.syscalls[name] : a?.compat?.[name];
}

/** Caps at 32 bits (32-bit ABIs: the filter and the kernel see 32-bit registers). */
function cap(sig: Sig, bits: 32 | 64): Sig {
  if (sig === undefined || bits === 64) return sig;
  return sig.map((a) => (a === undefined || a.bits <= 32 ? a : { ...a, bits: 32 }));
}

function resolveAbi(data: JData, tblDir: string, abi: AbiName, notes: string[]): Map<string, Sig> {
  const out = new Map<string, Sig>();
  const names = new Set(Object.keys(SYSCALL_NUMBERS[abi]));
  if (abi === "x86_64") {
    for (const row of data.x86_64_table) {
      if (!names.has(row.name)) continue;
      const def = row.definition === null || row.in === undefined ? undefined : defByPath(data, row.in, row.definition);
      out.set(row.name, def === undefined ? undefined : merge(data, variants(def, "default", row.definition!).map((d) => ({ def: d, probe: undefined, split32: false }))));
    }
  } else if (abi === "x86") {
    for (const [name, e] of Object.entries(data.x86_ia32_entry_points)) {
      if (!names.has(name)) continue;
      const def = defByPath(data, e.in, e.definition);
      out.set(name, def === undefined ? undefined : cap(merge(data, variants(def, "default", e.definition).map((d) => ({ def: d, probe: undefined, split32: false }))), 32));
    }
  } else {
    const src = SOURCES[abi];
    const bits = getAbi(abi).argBits;
    const text = readFileSync(path.join(tblDir, src.file), "utf8");
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      const cols = line.split(/\s+/);
      const [, kw, name, native, compatCol] = cols;
      const compat = compatCol === "-" ? undefined : compatCol;
      if (name === undefined || kw === undefined) continue;
      if (src.keep !== undefined && !src.keep.includes(kw)) continue;
      if (!names.has(name) || out.has(name)) continue;
      const cands: { def: JDef; probe: string | undefined; split32: boolean }[] = [];
      let missing = false;
      const add = (sym: string | undefined, probe: string | undefined, split32: boolean): void => {
        if (sym === undefined || probe === undefined) return;
        const hit = lookupEntry(data, sym, src.arch);
        if (hit === undefined) {
          missing = true;
          return;
        }
        const isCompat = sym.startsWith("compat_");
        for (const d of variants(hit.def, src.clone, hit.name)) cands.push({ def: d, probe, split32: split32 && !isCompat });
      };
      if (bits === 64) add(native, src.probe64, false);
      else {
        add(native, src.probe32, true);
        add(compat ?? native, src.probe64, false);
      }
      if (missing || cands.length === 0) {
        out.set(name, undefined);
        continue;
      }
      out.set(name, cap(merge(data, cands), bits));
    }
  }
  const without = [...names].filter((n) => out.get(n) === undefined);
  notes.push(`${abi}: ${names.size - without.length} of ${names.size} syscalls with argument types`);
  return out;
}

// ---- output ------------------------------------------------------------------------

const types: string[] = [];
const typeIndex = new Map<string, number>();
function typeIdx(t: string): number {
  let i = typeIndex.get(t);
  if (i === undefined) {
    i = types.length;
    types.push(t);
    typeIndex.set(t, i);
  }
  return i;
}

/** `name:typeIndex:bits(s|u)` per argument, `;`-separated; `?` for an argument without data; `-` for no data at all. */
function encode(sig: Sig): string {
  if (sig === undefined) return "-";
  return sig.map((a) => (a === undefined ? "?" : `${a.name}:${typeIdx(a.type)}:${a.bits}${a.signed ? "s" : "u"}`)).join(";");
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (k: string): string => (IDENT.test(k) ? k : JSON.stringify(k));

/** Runs the generator in memory. */
export function generateArgTypes(dataDir: string = DEFAULT_DATA_DIR): { text: string; notes: string[] } {
  const tblDir = path.join(dataDir, "linux-syscalls");
  const data = JSON.parse(readFileSync(path.join(tblDir, "syscall-arg-types.json"), "utf8")) as JData;
  const notes: string[] = [];
  types.length = 0;
  typeIndex.clear();
  const resolved = new Map<AbiName, Map<string, Sig>>();
  for (const abi of ABI_NAMES) resolved.set(abi, resolveAbi(data, tblDir, abi, notes));
  const base = resolved.get("x86_64")!;
  const baseEnc = new Map([...base].map(([n, s]) => [n, encode(s)]));
  const perAbi: [AbiName, [string, string][]][] = [];
  for (const abi of ABI_NAMES) {
    if (abi === "x86_64") continue;
    const bits = getAbi(abi).argBits;
    const diff: [string, string][] = [];
    for (const [name, sig] of [...resolved.get(abi)!].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const enc = encode(sig);
      const fromBase = base.has(name) ? encode(cap(base.get(name), bits)) : "-";
      if (enc !== fromBase) diff.push([name, enc]);
    }
    perAbi.push([abi, diff]);
  }
  const lines: string[] = [];
  lines.push(
    "// generated by scripts/gen-argtypes.ts — do not edit",
    "/**",
    ` * Syscall argument types per ABI, from Linux v${data.kernel}'s SYSCALL_DEFINE`,
    " * declarations (../shared/data/linux-syscalls/syscall-arg-types.json, method in",
    " * its SOURCES.md) and each ABI's `syscall*.tbl` entry points. Read through",
    " * `src/abi/argtypes.ts`.",
    " *",
    " * Each syscall is `name:type:bits(s|u)` per argument, `;`-separated, where",
    " * `type` indexes ARG_C_TYPES; `?` is an argument without data, `-` a syscall",
    " * without data. ARG_TYPES_BASE is x86_64; ARG_TYPES_BY_ABI holds only where",
    " * another ABI differs from x86_64 once widths are capped at 32 bits on",
    " * 32-bit ABIs (the reader applies the cap).",
    " *",
    ...notes.map((n) => ` * - ${n}`),
    " */",
    'import type { AbiName } from "../arch.js";',
    "",
    `export const ARG_TYPES_KERNEL_VERSION = ${JSON.stringify(data.kernel)};`,
    "",
  );
  const encBase = [...baseEnc].sort(([a], [b]) => (a < b ? -1 : 1));
  lines.push("export const ARG_TYPES_BASE: Readonly<Record<string, string>> = {");
  for (const [n, e] of encBase) lines.push(`  ${key(n)}: ${JSON.stringify(e)},`);
  lines.push("};", "");
  // ABIs that share a table and types (mips/mipsel, ppc64/ppc64le, sh/sheb, …) share one object.
  const shared = new Map<string, string>();
  const refs: [AbiName, string][] = [];
  for (const [abi, diff] of perAbi) {
    const body = diff.map(([n, e]) => `  ${key(n)}: ${JSON.stringify(e)},`).join("\n");
    let ref = shared.get(body);
    if (ref === undefined) {
      ref = `DIFF_${abi.toUpperCase()}`;
      shared.set(body, ref);
      lines.push(`const ${ref}: Readonly<Record<string, string>> = {`, ...(body === "" ? [] : [body]), "};", "");
    }
    refs.push([abi, ref]);
  }
  lines.push("export const ARG_TYPES_BY_ABI: Readonly<Partial<Record<AbiName, Readonly<Record<string, string>>>>> = {");
  for (const [abi, ref] of refs) lines.push(`  ${key(abi)}: ${ref},`);
  lines.push("};", "");
  lines.push(`export const ARG_C_TYPES: readonly string[] = ${JSON.stringify(types)};`, "");
  return { text: lines.join("\n"), notes };
}

function runMain(): void {
  const check = process.argv.includes("--check");
  const { text } = generateArgTypes();
  const file = path.join(REPO_ROOT, OUTPUT_FILE);
  if (check) {
    let cur = "";
    try {
      cur = readFileSync(file, "utf8");
    } catch {
      // missing: stale
    }
    if (cur !== text) {
      console.error(`${OUTPUT_FILE} is stale; run npx tsx scripts/gen-argtypes.ts`);
      process.exit(1);
    }
    console.log(`${OUTPUT_FILE} is up to date`);
    return;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${OUTPUT_FILE} (${text.length} bytes)`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runMain();
