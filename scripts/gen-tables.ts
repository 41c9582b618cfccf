/**
 * Generates `src/abi/generated/syscalls.ts` from the kernel's `syscall*.tbl`
 * files and libseccomp's CSVs in the shared data folder (`../shared/data`).
 *
 *   npx tsx scripts/gen-tables.ts          # write the file
 *   npx tsx scripts/gen-tables.ts --check  # exit 1 when the committed file is stale
 *
 * The selection rules (which table, which ABI keywords, which offset) are facts
 * from `data/linux-syscalls/SOURCES.md`. Numbers are written as in the kernel
 * table, without the ABI's offset; `src/abi/tables.ts` adds `Abi.nrOffset`.
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ABI_NAMES, type AbiName } from "../src/abi/arch.js";

/** Where the repository lives (this file is `scripts/gen-tables.ts`). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The shared data folder: `/work/shared/data` at dev time, `../shared/data` in CI. */
export const DEFAULT_DATA_DIR = path.resolve(REPO_ROOT, "../shared/data");
/** The generated file, relative to the repository root. */
export const OUTPUT_FILE = "src/abi/generated/syscalls.ts";

/** Kernel version of the `.tbl` files (SOURCES.md: Linux v7.3-rc7). */
const KERNEL_VERSION = "7.3-rc7";

/** How one ABI's table is selected. */
interface Selection {
  readonly file: string;
  /** ABI keywords (column 2) to keep; undefined keeps every line. */
  readonly abis?: readonly string[];
}

const SELECTIONS: Readonly<Record<AbiName, Selection>> = {
  x86: { file: "x86-syscall_32.tbl", abis: ["i386"] },
  x86_64: { file: "x86-syscall_64.tbl", abis: ["common", "64"] },
  x32: { file: "x86-syscall_64.tbl", abis: ["common", "x32"] },
  arm: { file: "arm-syscall.tbl", abis: ["common", "eabi"] },
  aarch64: { file: "generic-syscall.tbl", abis: ["common", "64", "renameat", "rlimit", "memfd_secret"] },
  loongarch64: { file: "generic-syscall.tbl", abis: ["common", "64", "memfd_secret"] },
  m68k: { file: "m68k-syscall.tbl" },
  mips: { file: "mips-syscall_o32.tbl" },
  mipsel: { file: "mips-syscall_o32.tbl" },
  mips64: { file: "mips-syscall_n64.tbl" },
  mipsel64: { file: "mips-syscall_n64.tbl" },
  mips64n32: { file: "mips-syscall_n32.tbl" },
  mipsel64n32: { file: "mips-syscall_n32.tbl" },
  parisc: { file: "parisc-syscall.tbl", abis: ["common", "32"] },
  parisc64: { file: "parisc-syscall.tbl", abis: ["common", "64"] },
  ppc: { file: "powerpc-syscall.tbl", abis: ["common", "nospu", "32"] },
  ppc64: { file: "powerpc-syscall.tbl", abis: ["common", "nospu", "64"] },
  ppc64le: { file: "powerpc-syscall.tbl", abis: ["common", "nospu", "64"] },
  riscv64: { file: "generic-syscall.tbl", abis: ["common", "64", "riscv", "rlimit", "memfd_secret"] },
  s390: { file: "s390-syscall.v6.12.tbl", abis: ["common", "32"] },
  s390x: { file: "s390-syscall.tbl", abis: ["common"] },
  sh: { file: "sh-syscall.tbl" },
  sheb: { file: "sh-syscall.tbl" },
};

/**
 * ARM's private syscalls, from `arch/arm/include/uapi/asm/unistd.h`
 * (`__ARM_NR_BASE` = 0x0f0000 + 1…6). They are not in `syscall.tbl`.
 */
const ARM_PRIVATE: Readonly<Record<string, number>> = {
  breakpoint: 0xf0001,
  cacheflush: 0xf0002,
  usr26: 0xf0003,
  usr32: 0xf0004,
  set_tls: 0xf0005,
  get_tls: 0xf0006,
};

/**
 * The MIPS tables name empty slots `unusedNN` / `reservedNN` (entry point
 * `sys_ni_syscall`); they are placeholders, not syscalls, and are dropped
 * (libseccomp drops them too).
 */
const PLACEHOLDER = /^(?:unused|reserved)\d+$/;

/**
 * First kernel version per syscall that is known as a fact but not (yet) in the
 * CSV: SOURCES.md says the only difference between the Linux 7.2.13 and
 * 7.3-rc7 tables is the new syscall `fchroot`, on every ABI.
 */
const SINCE_FACTS: Readonly<Record<string, string>> = { fchroot: "7.3" };

/** The libseccomp CSV's columns that serve several of our ABIs. */
const CSV_COLUMN: Readonly<Partial<Record<AbiName, string>>> = {
  mipsel: "mips",
  mipsel64: "mips64",
  mipsel64n32: "mips64n32",
  ppc64le: "ppc64",
  sheb: "sh",
};

/** Result of a generator run: the file text and notes for the console. */
export interface GeneratedTables {
  readonly text: string;
  readonly notes: readonly string[];
}

type Table = Map<string, number>;

function parseTbl(text: string, file: string, abis: readonly string[] | undefined, notes: string[]): Table {
  const table: Table = new Map();
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const cols = line.split(/\s+/);
    const nr = Number(cols[0]);
    const abi = cols[1];
    const name = cols[2];
    if (!Number.isInteger(nr) || abi === undefined || name === undefined) {
      throw new Error(`${file}:${i + 1}: cannot parse "${line}"`);
    }
    if (abis !== undefined && !abis.includes(abi)) continue;
    if (PLACEHOLDER.test(name)) continue;
    const prev = table.get(name);
    if (prev !== undefined && prev !== nr) {
      // Deterministic: the first line wins; reported so a human can look.
      notes.push(`${file}: "${name}" appears as ${prev} and ${nr} in one selection; kept ${prev}`);
      continue;
    }
    table.set(name, nr);
  }
  return table;
}

/** Parses a libseccomp CSV into column → (name → cell). */
function parseCsv(text: string): Map<string, Map<string, string>> {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = lines[0]!.split(",").map((h) => h.trim());
  const columns = new Map<string, Map<string, string>>();
  for (const h of header.slice(1)) columns.set(h, new Map());
  for (const line of lines.slice(1)) {
    const cells = line.split(",").map((c) => c.trim());
    const name = cells[0]!;
    header.slice(1).forEach((h, i) => columns.get(h)!.set(name, cells[i + 1] ?? ""));
  }
  return columns;
}

/** `SCMP_KV_5_4` → "5.4"; `SCMP_KV_UNDEF` (or anything else) → undefined. */
function kver(cell: string | undefined): string | undefined {
  const m = /^SCMP_KV_(\d+)_(\d+)$/.exec(cell ?? "");
  return m === null ? undefined : `${m[1]}.${m[2]}`;
}

function buildTables(dataDir: string, notes: string[]): Record<AbiName, Table> {
  const tblDir = path.join(dataDir, "linux-syscalls");
  const files = new Map<string, string>();
  const read = (f: string): string => {
    if (!files.has(f)) files.set(f, readFileSync(path.join(tblDir, f), "utf8"));
    return files.get(f)!;
  };
  const tables = {} as Record<AbiName, Table>;
  for (const abi of ABI_NAMES) {
    const sel = SELECTIONS[abi];
    tables[abi] = parseTbl(read(sel.file), sel.file, sel.abis, notes);
  }
  if (!notes.some((n) => n.includes("in one selection"))) {
    notes.push("checked: no name appears twice with different numbers in any selection");
  }
  for (const [name, nr] of Object.entries(ARM_PRIVATE)) tables.arm.set(name, nr);

  // 31-bit s390 existed until v6.18; our table is v6.12, so add what
  // libseccomp's frozen-at-v6.18 s390 CSV lists beyond it (463–469).
  const s390 = tables.s390;
  const v612Max = Math.max(...s390.values());
  const s390Csv = parseCsv(readFileSync(path.join(dataDir, "libseccomp-syscalls.s390.csv"), "utf8")).get("s390")!;
  const added: string[] = [];
  for (const [name, cell] of s390Csv) {
    const nr = Number(cell);
    if (!s390.has(name) && Number.isInteger(nr) && nr > v612Max) {
      s390.set(name, nr);
      added.push(`${name}=${nr}`);
    }
  }
  notes.push(`s390: added from libseccomp-syscalls.s390.csv (beyond v6.12's ${v612Max}): ${added.join(", ")}`);
  return tables;
}

function buildSince(dataDir: string, tables: Record<AbiName, Table>): Record<AbiName, Map<string, string>> {
  const csv = parseCsv(readFileSync(path.join(dataDir, "libseccomp-syscalls.csv"), "utf8"));
  const since = {} as Record<AbiName, Map<string, string>>;
  for (const abi of ABI_NAMES) {
    const m = new Map<string, string>();
    const column = csv.get(`${CSV_COLUMN[abi] ?? abi}_kver`);
    for (const name of tables[abi].keys()) {
      const v = kver(column?.get(name)) ?? SINCE_FACTS[name];
      if (v !== undefined) m.set(name, v);
    }
    since[abi] = m;
  }
  return since;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const key = (k: string): string => (IDENT.test(k) ? k : JSON.stringify(k));

/** `{ a: 1, b: 2, … }` wrapped at ~100 columns, entries in the given order. */
function objectLiteral(entries: readonly (readonly [string, string])[], indent: string): string {
  if (entries.length === 0) return "{}";
  const lines: string[] = [];
  let cur = "";
  for (const [k, v] of entries) {
    const item = `${key(k)}: ${v},`;
    if (cur !== "" && indent.length + 2 + cur.length + 1 + item.length > 100) {
      lines.push(cur);
      cur = item;
    } else cur = cur === "" ? item : `${cur} ${item}`;
  }
  lines.push(cur);
  return `{\n${lines.map((l) => `${indent}  ${l}`).join("\n")}\n${indent}}`;
}

/** Runs the generator in memory (no file is written). */
export function generateTables(dataDir: string = DEFAULT_DATA_DIR): GeneratedTables {
  const notes: string[] = [];
  const tables = buildTables(dataDir, notes);
  const since = buildSince(dataDir, tables);

  // Since: a name whose version is the same on every ABI that has it goes to
  // `common`; anything else per ABI.
  const perName = new Map<string, Set<string>>();
  for (const abi of ABI_NAMES) {
    for (const name of tables[abi].keys()) {
      const s = perName.get(name) ?? new Set<string>();
      s.add(since[abi].get(name) ?? "");
      perName.set(name, s);
    }
  }
  const common: [string, string][] = [];
  for (const [name, versions] of [...perName].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (versions.size === 1 && !versions.has("")) common.push([name, JSON.stringify([...versions][0])]);
  }
  const commonNames = new Set(common.map(([n]) => n));

  const out: string[] = [];
  out.push(
    "// generated by scripts/gen-tables.ts — do not edit",
    "/**",
    ` * Syscall tables for every ABI, from Linux v${KERNEL_VERSION}'s \`syscall*.tbl\` files`,
    " * (../shared/data/linux-syscalls, selection rules in its SOURCES.md).",
    " *",
    " * Numbers are as written in the kernel table, WITHOUT the ABI's offset",
    " * (x32: 0x40000000, MIPS o32/n64/n32: 4000/5000/6000); `tables.ts` adds",
    " * `Abi.nrOffset` to get the value seen in `seccomp_data.nr`.",
    " *",
    " * - arm also has ARM's private syscalls (0xf0001–0xf0006) from",
    " *   arch/arm/include/uapi/asm/unistd.h, which are not in the table.",
    " * - MIPS `unusedNN` / `reservedNN` placeholder slots are dropped.",
    " * - s390 (31-bit) was removed in Linux v6.19: its table is v6.12.117's",
    " *   (ABIs common,32) plus the syscalls 463–469 that libseccomp's",
    " *   syscalls.s390.csv (frozen at v6.18, the last kernel with 31-bit s390) lists.",
    " * - `since`: first kernel version with the syscall, where known: libseccomp's",
    " *   *_kver columns (all SCMP_KV_UNDEF in the copy used), and fchroot = 7.3",
    " *   (SOURCES.md: the only difference between the 7.2.13 and 7.3-rc7 tables).",
    " */",
    'import type { AbiName } from "../arch.js";',
    "",
    "/** Kernel version the tables were generated from. */",
    `export const GENERATED_KERNEL_VERSION = ${JSON.stringify(KERNEL_VERSION)};`,
    "",
    "/** Per ABI: syscall name → number in the kernel table (no offset), sorted by number. */",
    "export const SYSCALL_NUMBERS: Readonly<Record<AbiName, Readonly<Record<string, number>>>> = {",
  );
  for (const abi of ABI_NAMES) {
    const sel = SELECTIONS[abi];
    const entries = [...tables[abi]].sort(([a, x], [b, y]) => x - y || (a < b ? -1 : 1));
    const fmt = (n: number): string => (n >= 0xf0000 ? `0x${n.toString(16)}` : String(n));
    out.push(`  // ${sel.file}${sel.abis === undefined ? " (all lines)" : ` (${sel.abis.join(",")})`}: ${entries.length} syscalls`);
    out.push(`  ${key(abi)}: ${objectLiteral(entries.map(([n, nr]) => [n, fmt(nr)] as const), "  ")},`);
  }
  out.push("};", "");
  out.push(
    "/** First kernel version with the syscall, where known: `common` holds names with one version on every ABI. */",
    "export const SYSCALL_SINCE: {",
    "  readonly common: Readonly<Record<string, string>>;",
    "  readonly byAbi: Readonly<Partial<Record<AbiName, Readonly<Record<string, string>>>>>;",
    "} = {",
    `  common: ${objectLiteral(common, "  ")},`,
    "  byAbi: {",
  );
  for (const abi of ABI_NAMES) {
    const rest = [...since[abi]].filter(([n]) => !commonNames.has(n)).sort(([a], [b]) => (a < b ? -1 : 1));
    if (rest.length > 0) out.push(`    ${key(abi)}: ${objectLiteral(rest.map(([n, v]) => [n, JSON.stringify(v)] as const), "    ")},`);
  }
  out.push("  },", "};", "");

  for (const abi of ABI_NAMES) notes.push(`${abi}: ${tables[abi].size} syscalls`);
  return { text: out.join("\n"), notes };
}

function runMain(): void {
  const check = process.argv.includes("--check");
  const { text, notes } = generateTables();
  for (const n of notes) process.stdout.write(`${n}\n`);
  const target = path.join(REPO_ROOT, OUTPUT_FILE);
  if (check) {
    let current = "";
    try {
      current = readFileSync(target, "utf8");
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      process.stderr.write(`${OUTPUT_FILE} is stale; run: npx tsx scripts/gen-tables.ts\n`);
      process.exitCode = 1;
    }
    return;
  }
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, text);
  process.stdout.write(`wrote ${OUTPUT_FILE}\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runMain();
