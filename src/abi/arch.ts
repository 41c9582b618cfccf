/**
 * Linux syscall ABIs as seccomp sees them: the AUDIT_ARCH value a filter reads
 * from `seccomp_data.arch`, byte order, word size and the number offset that the
 * ABI adds to every syscall number (x32's bit 30, MIPS's 4000/5000/6000).
 */
import { SyscageError, didYouMean, suggest } from "../errors.js";

/** Canonical ABI names (libseccomp's tokens). */
export const ABI_NAMES = [
  "x86",
  "x86_64",
  "x32",
  "arm",
  "aarch64",
  "loongarch64",
  "m68k",
  "mips",
  "mipsel",
  "mips64",
  "mipsel64",
  "mips64n32",
  "mipsel64n32",
  "parisc",
  "parisc64",
  "ppc",
  "ppc64",
  "ppc64le",
  "riscv64",
  "s390",
  "s390x",
  "sh",
  "sheb",
] as const;

export type AbiName = (typeof ABI_NAMES)[number];

export type Endian = "little" | "big";

/** Static facts about one ABI. */
export interface Abi {
  /** Canonical name (libseccomp's token). */
  readonly name: AbiName;
  /** AUDIT_ARCH_* value seen in `seccomp_data.arch`. */
  readonly auditArch: number;
  /** Name of the AUDIT_ARCH_* constant, for disassembly comments. */
  readonly auditArchName: string;
  /** Byte order of `struct seccomp_data` for this ABI. */
  readonly endian: Endian;
  /** Size in bits of `long` in user space for this ABI. */
  readonly wordBits: 32 | 64;
  /**
   * Width of the argument registers whose values `seccomp_data.args` holds:
   * 64 on every ABI that runs with 64-bit registers (including x32 and MIPS
   * n32, whose `long` is 32 bits), 32 on the 32-bit ABIs.
   */
  readonly argBits: 32 | 64;
  /**
   * Added to every table number to get the value in `seccomp_data.nr`:
   * 0x40000000 for x32, 4000/5000/6000 for MIPS o32/n64/n32, 0 elsewhere.
   */
  readonly nrOffset: number;
  /** libseccomp's SCMP_ARCH_* name. */
  readonly scmpName: string;
  /** systemd's name (`systemd-analyze` / `SystemCallArchitectures=`). */
  readonly systemdName: string;
  /** OCI / Docker / Go GOARCH spelling, when one exists. */
  readonly goName?: string;
}

const EM = {
  I386: 3,
  M68K: 4,
  MIPS: 8,
  PARISC: 15,
  PPC: 20,
  PPC64: 21,
  S390: 22,
  ARM: 40,
  SH: 42,
  X86_64: 62,
  AARCH64: 183,
  RISCV: 243,
  LOONGARCH: 258,
} as const;

const ARCH_64BIT = 0x80000000;
const ARCH_LE = 0x40000000;
const ARCH_MIPS64_N32 = 0x20000000;

/** AUDIT_ARCH value from its parts, as `include/uapi/linux/audit.h` builds it. */
function audit(em: number, bits64: boolean, le: boolean, n32 = false): number {
  return (em | (bits64 ? ARCH_64BIT : 0) | (le ? ARCH_LE : 0) | (n32 ? ARCH_MIPS64_N32 : 0)) >>> 0;
}

/** The x32 ABI marks its syscall numbers with this bit. */
export const X32_SYSCALL_BIT = 0x40000000;

const DEFS: readonly Abi[] = [
  { name: "x86", auditArch: audit(EM.I386, false, true), auditArchName: "AUDIT_ARCH_I386", endian: "little", wordBits: 32, argBits: 32, nrOffset: 0, scmpName: "SCMP_ARCH_X86", systemdName: "x86", goName: "386" },
  { name: "x86_64", auditArch: audit(EM.X86_64, true, true), auditArchName: "AUDIT_ARCH_X86_64", endian: "little", wordBits: 64, argBits: 64, nrOffset: 0, scmpName: "SCMP_ARCH_X86_64", systemdName: "x86-64", goName: "amd64" },
  { name: "x32", auditArch: audit(EM.X86_64, true, true), auditArchName: "AUDIT_ARCH_X86_64", endian: "little", wordBits: 32, argBits: 64, nrOffset: X32_SYSCALL_BIT, scmpName: "SCMP_ARCH_X32", systemdName: "x32", goName: "amd64p32" },
  { name: "arm", auditArch: audit(EM.ARM, false, true), auditArchName: "AUDIT_ARCH_ARM", endian: "little", wordBits: 32, argBits: 32, nrOffset: 0, scmpName: "SCMP_ARCH_ARM", systemdName: "arm", goName: "arm" },
  { name: "aarch64", auditArch: audit(EM.AARCH64, true, true), auditArchName: "AUDIT_ARCH_AARCH64", endian: "little", wordBits: 64, argBits: 64, nrOffset: 0, scmpName: "SCMP_ARCH_AARCH64", systemdName: "arm64", goName: "arm64" },
  { name: "loongarch64", auditArch: audit(EM.LOONGARCH, true, true), auditArchName: "AUDIT_ARCH_LOONGARCH64", endian: "little", wordBits: 64, argBits: 64, nrOffset: 0, scmpName: "SCMP_ARCH_LOONGARCH64", systemdName: "loongarch64", goName: "loong64" },
  { name: "m68k", auditArch: audit(EM.M68K, false, false), auditArchName: "AUDIT_ARCH_M68K", endian: "big", wordBits: 32, argBits: 32, nrOffset: 0, scmpName: "SCMP_ARCH_M68K", systemdName: "m68k" },
  { name: "mips", auditArch: audit(EM.MIPS, false, false), auditArchName: "AUDIT_ARCH_MIPS", endian: "big", wordBits: 32, argBits: 32, nrOffset: 4000, scmpName: "SCMP_ARCH_MIPS", systemdName: "mips", goName: "mips" },
  { name: "mipsel", auditArch: audit(EM.MIPS, false, true), auditArchName: "AUDIT_ARCH_MIPSEL", endian: "little", wordBits: 32, argBits: 32, nrOffset: 4000, scmpName: "SCMP_ARCH_MIPSEL", systemdName: "mips-le", goName: "mipsle" },
  { name: "mips64", auditArch: audit(EM.MIPS, true, false), auditArchName: "AUDIT_ARCH_MIPS64", endian: "big", wordBits: 64, argBits: 64, nrOffset: 5000, scmpName: "SCMP_ARCH_MIPS64", systemdName: "mips64", goName: "mips64" },
  { name: "mipsel64", auditArch: audit(EM.MIPS, true, true), auditArchName: "AUDIT_ARCH_MIPSEL64", endian: "little", wordBits: 64, argBits: 64, nrOffset: 5000, scmpName: "SCMP_ARCH_MIPSEL64", systemdName: "mips64-le", goName: "mips64le" },
  { name: "mips64n32", auditArch: audit(EM.MIPS, true, false, true), auditArchName: "AUDIT_ARCH_MIPS64N32", endian: "big", wordBits: 32, argBits: 64, nrOffset: 6000, scmpName: "SCMP_ARCH_MIPS64N32", systemdName: "mips64-n32", goName: "mips64p32" },
  { name: "mipsel64n32", auditArch: audit(EM.MIPS, true, true, true), auditArchName: "AUDIT_ARCH_MIPSEL64N32", endian: "little", wordBits: 32, argBits: 64, nrOffset: 6000, scmpName: "SCMP_ARCH_MIPSEL64N32", systemdName: "mips64-le-n32", goName: "mips64p32le" },
  { name: "parisc", auditArch: audit(EM.PARISC, false, false), auditArchName: "AUDIT_ARCH_PARISC", endian: "big", wordBits: 32, argBits: 32, nrOffset: 0, scmpName: "SCMP_ARCH_PARISC", systemdName: "parisc" },
  { name: "parisc64", auditArch: audit(EM.PARISC, true, false), auditArchName: "AUDIT_ARCH_PARISC64", endian: "big", wordBits: 64, argBits: 64, nrOffset: 0, scmpName: "SCMP_ARCH_PARISC64", systemdName: "parisc64" },
  { name: "ppc", auditArch: audit(EM.PPC, false, false), auditArchName: "AUDIT_ARCH_PPC", endian: "big", wordBits: 32, argBits: 32, nrOffset: 0, scmpName: "SCMP_ARCH_PPC", systemdName: "ppc", goName: "ppc" },
  { name: "ppc64", auditArch: audit(EM.PPC64, true, false), auditArchName: "AUDIT_ARCH_PPC64", endian: "big", wordBits: 64, argBits: 64, nrOffset: 0, scmpName: "SCMP_ARCH_PPC64", systemdName: "ppc64", goName: "ppc64" },
  { name: "ppc64le", auditArch: audit(EM.PPC64, true, true), auditArchName: "AUDIT_ARCH_PPC64LE", endian: "little", wordBits: 64, argBits: 64, nrOffset: 0, scmpName: "SCMP_ARCH_PPC64LE", systemdName: "ppc64-le", goName: "ppc64le" },
  { name: "riscv64", auditArch: audit(EM.RISCV, true, true), auditArchName: "AUDIT_ARCH_RISCV64", endian: "little", wordBits: 64, argBits: 64, nrOffset: 0, scmpName: "SCMP_ARCH_RISCV64", systemdName: "riscv64", goName: "riscv64" },
  { name: "s390", auditArch: audit(EM.S390, false, false), auditArchName: "AUDIT_ARCH_S390", endian: "big", wordBits: 32, argBits: 32, nrOffset: 0, scmpName: "SCMP_ARCH_S390", systemdName: "s390", goName: "s390" },
  { name: "s390x", auditArch: audit(EM.S390, true, false), auditArchName: "AUDIT_ARCH_S390X", endian: "big", wordBits: 64, argBits: 64, nrOffset: 0, scmpName: "SCMP_ARCH_S390X", systemdName: "s390x", goName: "s390x" },
  { name: "sh", auditArch: audit(EM.SH, false, true), auditArchName: "AUDIT_ARCH_SHEL", endian: "little", wordBits: 32, argBits: 32, nrOffset: 0, scmpName: "SCMP_ARCH_SH", systemdName: "sh" },
  { name: "sheb", auditArch: audit(EM.SH, false, false), auditArchName: "AUDIT_ARCH_SH", endian: "big", wordBits: 32, argBits: 32, nrOffset: 0, scmpName: "SCMP_ARCH_SHEB", systemdName: "sh-be" },
];

/** Every ABI, in canonical order. */
export const ABIS: ReadonlyMap<AbiName, Abi> = new Map(DEFS.map((a) => [a.name, a]));

/** Facts about one ABI by canonical name. */
export function getAbi(name: AbiName): Abi {
  return ABIS.get(name)!;
}

/** Extra spellings beyond canonical, SCMP_ARCH_*, systemd and Go names. */
const EXTRA_ALIASES: Readonly<Record<string, AbiName>> = {
  i386: "x86",
  i486: "x86",
  i586: "x86",
  i686: "x86",
  ia32: "x86",
  "x86-64": "x86_64",
  x64: "x86_64",
  amd64: "x86_64",
  arm64: "aarch64",
  armv7: "arm",
  armhf: "arm",
  armel: "arm",
  loong64: "loongarch64",
  loongarch: "loongarch64",
  mipsle: "mipsel",
  mips64le: "mipsel64",
  mipsel64: "mipsel64",
  mipsn32: "mips64n32",
  mipseln32: "mipsel64n32",
  mips64p32: "mips64n32",
  mips64p32le: "mipsel64n32",
  hppa: "parisc",
  hppa64: "parisc64",
  powerpc: "ppc",
  powerpc64: "ppc64",
  powerpc64le: "ppc64le",
  ppc64el: "ppc64le",
  riscv: "riscv64",
  sh4: "sh",
  sheb: "sheb",
  sh4eb: "sheb",
};

function normaliseKey(s: string): string {
  return s.trim().toLowerCase();
}

const ALIASES: ReadonlyMap<string, AbiName> = (() => {
  const m = new Map<string, AbiName>();
  for (const a of DEFS) {
    m.set(a.name, a.name);
    m.set(normaliseKey(a.scmpName), a.name);
    m.set(normaliseKey(a.scmpName.replace(/^SCMP_ARCH_/, "")), a.name);
    m.set(normaliseKey(a.systemdName), a.name);
    if (a.goName !== undefined) m.set(a.goName, a.name);
  }
  for (const [k, v] of Object.entries(EXTRA_ALIASES)) m.set(k, v);
  return m;
})();

/** Every accepted spelling (lower case), for help texts and suggestions. */
export function abiSpellings(): string[] {
  return [...ALIASES.keys()].sort();
}

/**
 * Resolve any common spelling of an ABI (libseccomp token, SCMP_ARCH_*,
 * systemd's, Go/Docker's, uname -m) to its canonical name, or undefined.
 */
export function lookupAbi(spelling: string): AbiName | undefined {
  return ALIASES.get(normaliseKey(spelling));
}

/** Like {@link lookupAbi}, but an unknown spelling is a SyscageError with suggestions. */
export function parseAbi(spelling: string): AbiName {
  const found = lookupAbi(spelling);
  if (found !== undefined) return found;
  const s = suggest(normaliseKey(spelling), ALIASES.keys());
  throw new SyscageError(
    "UNKNOWN_ARCH",
    `unknown architecture "${spelling}".${didYouMean(s)} Known: ${ABI_NAMES.join(", ")}.`,
    s,
  );
}

/** The ABIs whose `seccomp_data.arch` is `auditArch` (x86_64 and x32 share one). */
export function abisByAuditArch(auditArch: number): Abi[] {
  return DEFS.filter((a) => a.auditArch === auditArch >>> 0);
}

/** Readable name of an AUDIT_ARCH value, or hex when unknown. */
export function auditArchName(auditArch: number): string {
  const a = DEFS.find((d) => d.auditArch === auditArch >>> 0);
  return a !== undefined ? a.auditArchName : `0x${(auditArch >>> 0).toString(16)}`;
}

/**
 * The ABIs a host kernel runs natively, as systemd's `seccomp_local_archs`
 * lists them: the native ABI first, then its compat ABIs.
 */
export const LOCAL_ABIS: Readonly<Record<AbiName, readonly AbiName[]>> = {
  x86: ["x86"],
  x86_64: ["x86_64", "x86", "x32"],
  x32: ["x32", "x86", "x86_64"],
  arm: ["arm"],
  aarch64: ["aarch64", "arm"],
  loongarch64: ["loongarch64"],
  m68k: ["m68k"],
  mips: ["mips"],
  mipsel: ["mipsel"],
  mips64: ["mips64", "mips", "mips64n32"],
  mipsel64: ["mipsel64", "mipsel", "mipsel64n32"],
  mips64n32: ["mips64n32", "mips", "mips64"],
  mipsel64n32: ["mipsel64n32", "mipsel", "mipsel64"],
  parisc: ["parisc"],
  parisc64: ["parisc64", "parisc"],
  ppc: ["ppc"],
  ppc64: ["ppc64", "ppc"],
  ppc64le: ["ppc64le"],
  riscv64: ["riscv64"],
  s390: ["s390"],
  s390x: ["s390x", "s390"],
  sh: ["sh"],
  sheb: ["sheb"],
};

/** {@link hostAbi} of this process, or undefined on a platform with no seccomp ABI here. */
export function hostAbiIfKnown(): AbiName | undefined {
  try {
    return hostAbi();
  } catch {
    return undefined;
  }
}

/**
 * The native ABI of a machine, from Node's `process.arch` and byte order
 * (default: this process). Throws for a platform with no seccomp ABI here.
 */
export function hostAbi(arch: string = process.arch, endian: Endian = osEndian()): AbiName {
  const le = endian === "little";
  switch (arch) {
    case "x64":
      return "x86_64";
    case "ia32":
      return "x86";
    case "arm":
      return "arm";
    case "arm64":
      return "aarch64";
    case "loong64":
      return "loongarch64";
    case "mips":
      return "mips";
    case "mipsel":
      return "mipsel";
    case "mips64":
      return le ? "mipsel64" : "mips64";
    case "mips64el":
      return "mipsel64";
    case "ppc":
      return "ppc";
    case "ppc64":
      return le ? "ppc64le" : "ppc64";
    case "riscv64":
      return "riscv64";
    case "s390":
      return "s390";
    case "s390x":
      return "s390x";
    default:
      throw new SyscageError("UNSUPPORTED_HOST", `this machine's architecture "${arch}" has no seccomp ABI in syscage; name one with --arch.`);
  }
}

function osEndian(): Endian {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? "little" : "big";
}

/** The ABIs this host runs (native first), as systemd's `seccomp_local_archs`. */
export function localAbis(native: AbiName = hostAbi()): readonly AbiName[] {
  return LOCAL_ABIS[native];
}
