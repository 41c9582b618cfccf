/**
 * errno names and numbers per ABI.
 *
 * The numbers a seccomp filter returns with SECCOMP_RET_ERRNO are the kernel's
 * numbers for the ABI of the calling task, and they are not the same
 * everywhere. Linux has one common table and a few architectures with their
 * own numbering above 34:
 *
 * - "generic": include/uapi/asm-generic/errno-base.h + errno.h (EPERM 1 …
 *   EHWPOISON 133). Used by x86, x86_64, x32, arm, aarch64, loongarch64,
 *   riscv64, m68k, s390, s390x, sh and sheb.
 * - "powerpc": the generic table, except that EDEADLOCK is its own number 58
 *   instead of an alias of EDEADLK (arch/powerpc/include/uapi/asm/errno.h).
 * - "mips": arch/mips/include/uapi/asm/errno.h (ENOSYS 89, EDQUOT 1133, …).
 * - "parisc": arch/parisc/include/uapi/asm/errno.h (ENOSYS 251, …), as in
 *   current kernels, which dropped the HP-UX leftovers ENOSYM (215),
 *   EREMOTERELEASE (240) and ENOTSUP (252) that older headers still listed.
 *
 * Numbers 1..34 (errno-base.h) are the same on every flavour.
 *
 * Aliases are accepted as input and never returned by {@link errnoName}:
 * the kernel's own aliases (EWOULDBLOCK = EAGAIN everywhere; EDEADLOCK =
 * EDEADLK except on powerpc and mips; on parisc EREFUSED = ECONNREFUSED and
 * ECANCELLED, the kernel's spelling, = ECANCELED) and the libc name ENOTSUP,
 * which glibc and musl define as EOPNOTSUPP on Linux.
 *
 * alpha and sparc have their own tables too; they are not syscage ABIs and
 * are not included.
 */
import { SyscageError, didYouMean, suggest } from "../errors.js";
import type { AbiName } from "./arch.js";

/** Which of the kernel's errno tables an ABI uses. */
export type ErrnoFlavour = "generic" | "mips" | "parisc" | "powerpc";

/** Largest value SECCOMP_RET_ERRNO can carry through to user space (the kernel's MAX_ERRNO). */
export const ERRNO_MAX = 4095;

/** errno-base.h: identical on every Linux architecture. */
const ERRNO_BASE: Readonly<Record<string, number>> = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTBLK: 15,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
};

/** asm-generic/errno.h, numbers above 34. */
const GENERIC_REST: Readonly<Record<string, number>> = {
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENOMSG: 42,
  EIDRM: 43,
  ECHRNG: 44,
  EL2NSYNC: 45,
  EL3HLT: 46,
  EL3RST: 47,
  ELNRNG: 48,
  EUNATCH: 49,
  ENOCSI: 50,
  EL2HLT: 51,
  EBADE: 52,
  EBADR: 53,
  EXFULL: 54,
  ENOANO: 55,
  EBADRQC: 56,
  EBADSLT: 57,
  EBFONT: 59,
  ENOSTR: 60,
  ENODATA: 61,
  ETIME: 62,
  ENOSR: 63,
  ENONET: 64,
  ENOPKG: 65,
  EREMOTE: 66,
  ENOLINK: 67,
  EADV: 68,
  ESRMNT: 69,
  ECOMM: 70,
  EPROTO: 71,
  EMULTIHOP: 72,
  EDOTDOT: 73,
  EBADMSG: 74,
  EOVERFLOW: 75,
  ENOTUNIQ: 76,
  EBADFD: 77,
  EREMCHG: 78,
  ELIBACC: 79,
  ELIBBAD: 80,
  ELIBSCN: 81,
  ELIBMAX: 82,
  ELIBEXEC: 83,
  EILSEQ: 84,
  ERESTART: 85,
  ESTRPIPE: 86,
  EUSERS: 87,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EOPNOTSUPP: 95,
  EPFNOSUPPORT: 96,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENETRESET: 102,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETOOMANYREFS: 109,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTDOWN: 112,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
  ESTALE: 116,
  EUCLEAN: 117,
  ENOTNAM: 118,
  ENAVAIL: 119,
  EISNAM: 120,
  EREMOTEIO: 121,
  EDQUOT: 122,
  ENOMEDIUM: 123,
  EMEDIUMTYPE: 124,
  ECANCELED: 125,
  ENOKEY: 126,
  EKEYEXPIRED: 127,
  EKEYREVOKED: 128,
  EKEYREJECTED: 129,
  EOWNERDEAD: 130,
  ENOTRECOVERABLE: 131,
  ERFKILL: 132,
  EHWPOISON: 133,
};

/** arch/powerpc/include/uapi/asm/errno.h: EDEADLOCK is 58, not EDEADLK. */
const POWERPC_REST: Readonly<Record<string, number>> = {
  ...GENERIC_REST,
  EDEADLOCK: 58,
};

/** arch/mips/include/uapi/asm/errno.h, numbers above 34. */
const MIPS_REST: Readonly<Record<string, number>> = {
  ENOMSG: 35,
  EIDRM: 36,
  ECHRNG: 37,
  EL2NSYNC: 38,
  EL3HLT: 39,
  EL3RST: 40,
  ELNRNG: 41,
  EUNATCH: 42,
  ENOCSI: 43,
  EL2HLT: 44,
  EDEADLK: 45,
  ENOLCK: 46,
  EBADE: 50,
  EBADR: 51,
  EXFULL: 52,
  ENOANO: 53,
  EBADRQC: 54,
  EBADSLT: 55,
  EDEADLOCK: 56,
  EBFONT: 59,
  ENOSTR: 60,
  ENODATA: 61,
  ETIME: 62,
  ENOSR: 63,
  ENONET: 64,
  ENOPKG: 65,
  EREMOTE: 66,
  ENOLINK: 67,
  EADV: 68,
  ESRMNT: 69,
  ECOMM: 70,
  EPROTO: 71,
  EDOTDOT: 73,
  EMULTIHOP: 74,
  EBADMSG: 77,
  ENAMETOOLONG: 78,
  EOVERFLOW: 79,
  ENOTUNIQ: 80,
  EBADFD: 81,
  EREMCHG: 82,
  ELIBACC: 83,
  ELIBBAD: 84,
  ELIBSCN: 85,
  ELIBMAX: 86,
  ELIBEXEC: 87,
  EILSEQ: 88,
  ENOSYS: 89,
  ELOOP: 90,
  ERESTART: 91,
  ESTRPIPE: 92,
  ENOTEMPTY: 93,
  EUSERS: 94,
  ENOTSOCK: 95,
  EDESTADDRREQ: 96,
  EMSGSIZE: 97,
  EPROTOTYPE: 98,
  ENOPROTOOPT: 99,
  EPROTONOSUPPORT: 120,
  ESOCKTNOSUPPORT: 121,
  EOPNOTSUPP: 122,
  EPFNOSUPPORT: 123,
  EAFNOSUPPORT: 124,
  EADDRINUSE: 125,
  EADDRNOTAVAIL: 126,
  ENETDOWN: 127,
  ENETUNREACH: 128,
  ENETRESET: 129,
  ECONNABORTED: 130,
  ECONNRESET: 131,
  ENOBUFS: 132,
  EISCONN: 133,
  ENOTCONN: 134,
  EUCLEAN: 135,
  ENOTNAM: 137,
  ENAVAIL: 138,
  EISNAM: 139,
  EREMOTEIO: 140,
  EINIT: 141,
  EREMDEV: 142,
  ESHUTDOWN: 143,
  ETOOMANYREFS: 144,
  ETIMEDOUT: 145,
  ECONNREFUSED: 146,
  EHOSTDOWN: 147,
  EHOSTUNREACH: 148,
  EALREADY: 149,
  EINPROGRESS: 150,
  ESTALE: 151,
  ECANCELED: 158,
  ENOMEDIUM: 159,
  EMEDIUMTYPE: 160,
  ENOKEY: 161,
  EKEYEXPIRED: 162,
  EKEYREVOKED: 163,
  EKEYREJECTED: 164,
  EOWNERDEAD: 165,
  ENOTRECOVERABLE: 166,
  ERFKILL: 167,
  EHWPOISON: 168,
  EDQUOT: 1133,
};

/** arch/parisc/include/uapi/asm/errno.h, numbers above 34. */
const PARISC_REST: Readonly<Record<string, number>> = {
  ENOMSG: 35,
  EIDRM: 36,
  ECHRNG: 37,
  EL2NSYNC: 38,
  EL3HLT: 39,
  EL3RST: 40,
  ELNRNG: 41,
  EUNATCH: 42,
  ENOCSI: 43,
  EL2HLT: 44,
  EDEADLK: 45,
  ENOLCK: 46,
  EILSEQ: 47,
  ENONET: 50,
  ENODATA: 51,
  ETIME: 52,
  ENOSR: 53,
  ENOSTR: 54,
  ENOPKG: 55,
  ENOLINK: 57,
  EADV: 58,
  ESRMNT: 59,
  ECOMM: 60,
  EPROTO: 61,
  EMULTIHOP: 64,
  EDOTDOT: 66,
  EBADMSG: 67,
  EUSERS: 68,
  EDQUOT: 69,
  ESTALE: 70,
  EREMOTE: 71,
  EOVERFLOW: 72,
  EBADE: 160,
  EBADR: 161,
  EXFULL: 162,
  ENOANO: 163,
  EBADRQC: 164,
  EBADSLT: 165,
  EBFONT: 166,
  ENOTUNIQ: 167,
  EBADFD: 168,
  EREMCHG: 169,
  ELIBACC: 170,
  ELIBBAD: 171,
  ELIBSCN: 172,
  ELIBMAX: 173,
  ELIBEXEC: 174,
  ERESTART: 175,
  ESTRPIPE: 176,
  EUCLEAN: 177,
  ENOTNAM: 178,
  ENAVAIL: 179,
  EISNAM: 180,
  EREMOTEIO: 181,
  ENOMEDIUM: 182,
  EMEDIUMTYPE: 183,
  ENOKEY: 184,
  EKEYEXPIRED: 185,
  EKEYREVOKED: 186,
  EKEYREJECTED: 187,
  ENOTSOCK: 216,
  EDESTADDRREQ: 217,
  EMSGSIZE: 218,
  EPROTOTYPE: 219,
  ENOPROTOOPT: 220,
  EPROTONOSUPPORT: 221,
  ESOCKTNOSUPPORT: 222,
  EOPNOTSUPP: 223,
  EPFNOSUPPORT: 224,
  EAFNOSUPPORT: 225,
  EADDRINUSE: 226,
  EADDRNOTAVAIL: 227,
  ENETDOWN: 228,
  ENETUNREACH: 229,
  ENETRESET: 230,
  ECONNABORTED: 231,
  ECONNRESET: 232,
  ENOBUFS: 233,
  EISCONN: 234,
  ENOTCONN: 235,
  ESHUTDOWN: 236,
  ETOOMANYREFS: 237,
  ETIMEDOUT: 238,
  ECONNREFUSED: 239,
  EHOSTDOWN: 241,
  EHOSTUNREACH: 242,
  EALREADY: 244,
  EINPROGRESS: 245,
  ENOTEMPTY: 247,
  ENAMETOOLONG: 248,
  ELOOP: 249,
  ENOSYS: 251,
  ECANCELED: 253,
  EOWNERDEAD: 254,
  ENOTRECOVERABLE: 255,
  ERFKILL: 256,
  EHWPOISON: 257,
};

/** Input-only aliases: alias → canonical name (which must exist in the flavour). */
const COMMON_ALIASES: Readonly<Record<string, string>> = {
  EWOULDBLOCK: "EAGAIN",
  ENOTSUP: "EOPNOTSUPP", // libc name; glibc/musl define it as EOPNOTSUPP on Linux
};

interface FlavourData {
  readonly numbers: Readonly<Record<string, number>>;
  readonly aliases: Readonly<Record<string, string>>;
}

const FLAVOUR_DATA: Readonly<Record<ErrnoFlavour, FlavourData>> = {
  generic: {
    numbers: { ...ERRNO_BASE, ...GENERIC_REST },
    aliases: { ...COMMON_ALIASES, EDEADLOCK: "EDEADLK" },
  },
  powerpc: {
    numbers: { ...ERRNO_BASE, ...POWERPC_REST },
    aliases: COMMON_ALIASES,
  },
  mips: {
    numbers: { ...ERRNO_BASE, ...MIPS_REST },
    aliases: COMMON_ALIASES,
  },
  parisc: {
    numbers: { ...ERRNO_BASE, ...PARISC_REST },
    aliases: {
      ...COMMON_ALIASES,
      EDEADLOCK: "EDEADLK",
      EREFUSED: "ECONNREFUSED",
      ECANCELLED: "ECANCELED",
    },
  },
};

/** Which errno table each ABI uses; a Record so that a new ABI must be placed. */
const ABI_FLAVOUR: Readonly<Record<AbiName, ErrnoFlavour>> = {
  x86: "generic",
  x86_64: "generic",
  x32: "generic",
  arm: "generic",
  aarch64: "generic",
  loongarch64: "generic",
  m68k: "generic",
  mips: "mips",
  mipsel: "mips",
  mips64: "mips",
  mipsel64: "mips",
  mips64n32: "mips",
  mipsel64n32: "mips",
  parisc: "parisc",
  parisc64: "parisc",
  ppc: "powerpc",
  ppc64: "powerpc",
  ppc64le: "powerpc",
  riscv64: "generic",
  s390: "generic",
  s390x: "generic",
  sh: "generic",
  sheb: "generic",
};

interface FlavourIndex {
  /** Upper-case name or alias → number. */
  readonly byName: ReadonlyMap<string, number>;
  /** Number → canonical name. */
  readonly byNumber: ReadonlyMap<number, string>;
  /** Canonical names in number order. */
  readonly names: readonly string[];
}

function buildIndex(data: FlavourData): FlavourIndex {
  const byName = new Map<string, number>();
  const byNumber = new Map<number, string>();
  const entries = Object.entries(data.numbers).sort((a, b) => a[1] - b[1]);
  for (const [name, n] of entries) {
    byName.set(name, n);
    if (!byNumber.has(n)) byNumber.set(n, name);
  }
  for (const [alias, target] of Object.entries(data.aliases)) {
    const n = data.numbers[target];
    if (n !== undefined && !byName.has(alias)) byName.set(alias, n);
  }
  return { byName, byNumber, names: Object.freeze(entries.map(([name]) => name)) };
}

const INDEX: Readonly<Record<ErrnoFlavour, FlavourIndex>> = {
  generic: buildIndex(FLAVOUR_DATA.generic),
  powerpc: buildIndex(FLAVOUR_DATA.powerpc),
  mips: buildIndex(FLAVOUR_DATA.mips),
  parisc: buildIndex(FLAVOUR_DATA.parisc),
};

/** The errno table (flavour) that `abi` uses. */
export function errnoFlavour(abi: AbiName): ErrnoFlavour {
  return ABI_FLAVOUR[abi];
}

/**
 * The number of errno `name` on `abi`, or undefined when the ABI has no such
 * errno. Case-insensitive; accepts the kernel's aliases and ENOTSUP.
 */
export function errnoNumber(abi: AbiName, name: string): number | undefined {
  return INDEX[ABI_FLAVOUR[abi]].byName.get(name.trim().toUpperCase());
}

/** The canonical name of errno `n` on `abi` (never an alias), or undefined. */
export function errnoName(abi: AbiName, n: number): string | undefined {
  return INDEX[ABI_FLAVOUR[abi]].byNumber.get(n);
}

/** Every canonical errno name of `abi`, in number order (aliases excluded). */
export function errnoNames(abi: AbiName): readonly string[] {
  return INDEX[ABI_FLAVOUR[abi]].names;
}

/** Every accepted spelling (canonical names and aliases) of `abi`, upper case. */
export function errnoSpellings(abi: AbiName): readonly string[] {
  return [...INDEX[ABI_FLAVOUR[abi]].byName.keys()];
}

/**
 * Parse an errno given as a name ("EPERM", "eperm") or a decimal number
 * ("1") for `abi`. Numbers must lie in 0..{@link ERRNO_MAX}.
 *
 * @throws SyscageError UNKNOWN_ERRNO for an unknown name (with suggestions)
 *   or a number out of range.
 */
export function parseErrno(abi: AbiName, text: string): number {
  const t = text.trim();
  if (/^[0-9]+$/.test(t)) {
    const n = Number(t);
    if (n > ERRNO_MAX) {
      throw new SyscageError(
        "UNKNOWN_ERRNO",
        `errno ${t} is out of range: the kernel passes errno values 0..${ERRNO_MAX} only. Use a number in that range or a name such as EPERM.`,
      );
    }
    return n;
  }
  if (t === "") {
    throw new SyscageError(
      "UNKNOWN_ERRNO",
      `empty errno for ${abi}: give a name such as EPERM or a number 0..${ERRNO_MAX}.`,
    );
  }
  const n = errnoNumber(abi, t);
  if (n !== undefined) return n;

  const upper = t.toUpperCase();
  const elsewhere = (Object.keys(INDEX) as ErrnoFlavour[]).filter((f) => INDEX[f].byName.has(upper));
  const candidates = errnoSpellings(abi);
  const suggestions = suggest(upper, candidates);
  if (elsewhere.length > 0) {
    throw new SyscageError(
      "UNKNOWN_ERRNO",
      `errno "${t}" does not exist on ${abi}: only the ${elsewhere.join(", ")} errno table${elsewhere.length > 1 ? "s have" : " has"} it. Use an errno of ${abi} or a number.${didYouMean(suggestions)}`,
      suggestions,
    );
  }
  throw new SyscageError(
    "UNKNOWN_ERRNO",
    `unknown errno "${t}" for ${abi}: expected a name such as EPERM or a number 0..${ERRNO_MAX}.${didYouMean(suggestions)}`,
    suggestions,
  );
}
