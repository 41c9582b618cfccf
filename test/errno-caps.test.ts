/**
 * errno names per ABI, capability names and socketcall/ipc sub-calls, checked
 * against the host's kernel headers, Python's errno module, libseccomp (via
 * python3-seccomp), valgrind's copies of per-arch kernel constants and the
 * running kernel.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { test, type TestContext } from "node:test";

import { ABI_NAMES, getAbi, type AbiName } from "../src/abi/arch.js";
import {
  CAPABILITY_NAMES,
  CAP_LAST_CAP,
  capabilityName,
  capabilityNumber,
  parseCapability,
} from "../src/abi/capabilities.js";
import {
  ERRNO_MAX,
  errnoFlavour,
  errnoName,
  errnoNames,
  errnoNumber,
  errnoSpellings,
  parseErrno,
  type ErrnoFlavour,
} from "../src/abi/errno.js";
import {
  IPC_SUBCALLS,
  SOCKETCALL_SUBCALLS,
  SUBCALL_ARG_MASK,
  hasIpc,
  hasSocketcall,
  multiplexedAs,
  subcallName,
} from "../src/abi/multiplex.js";
import { SyscageError } from "../src/errors.js";
import { DEBIAN_PYTHON, REQUIRE_ORACLES, needOracle } from "./helpers/oracles.js";

// ---------------------------------------------------------------- helpers

/** Read a host file, or skip (fail under SYSCAGE_REQUIRE_ORACLES=1) when it is missing. */
function hostFile(t: TestContext, path: string, pkg: string): string | undefined {
  if (existsSync(path)) return readFileSync(path, "utf8");
  const why = `${path} not found (apt-get install ${pkg})`;
  if (REQUIRE_ORACLES) throw new Error(`oracle required (SYSCAGE_REQUIRE_ORACLES=1) but missing: ${why}`);
  process.stderr.write(`\n*** SKIPPED: ${why} ***\n`);
  t.skip(why);
  return undefined;
}

/**
 * `#define NAME VALUE` lines of C headers where VALUE is a number or another
 * NAME defined in the same text; aliases resolved. Only names matching `nameRe` are kept.
 */
function parseDefines(text: string, nameRe: RegExp): Map<string, number> {
  const raw = new Map<string, string>();
  const re = /^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]+([A-Za-z0-9_]+)\b/gm;
  for (const m of text.matchAll(re)) {
    const name = m[1]!;
    if (nameRe.test(name)) raw.set(name, m[2]!);
  }
  const out = new Map<string, number>();
  const resolve = (v: string, depth: number): number | undefined => {
    if (/^[0-9]+$/.test(v)) return Number(v);
    const next = raw.get(v);
    return next === undefined || depth > 10 ? undefined : resolve(next, depth + 1);
  };
  for (const [name, v] of raw) {
    const n = resolve(v, 0);
    if (n !== undefined) out.set(name, n);
  }
  return out;
}

function abisOf(flavour: ErrnoFlavour): AbiName[] {
  return ABI_NAMES.filter((a) => errnoFlavour(a) === flavour);
}

function throwsCode(fn: () => unknown, code: string): SyscageError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SyscageError, `expected SyscageError, got ${String(e)}`);
    assert.equal(e.code, code);
    return e;
  }
  assert.fail(`expected SyscageError ${code}, nothing was thrown`);
}

// ---------------------------------------------------------------- errno

test("errno flavours: every ABI has one, and the expected families", () => {
  assert.deepEqual(abisOf("mips").sort(), ["mips", "mips64", "mips64n32", "mipsel", "mipsel64", "mipsel64n32"]);
  assert.deepEqual(abisOf("parisc").sort(), ["parisc", "parisc64"]);
  assert.deepEqual(abisOf("powerpc").sort(), ["ppc", "ppc64", "ppc64le"]);
  for (const abi of ["x86", "x86_64", "x32", "arm", "aarch64", "loongarch64", "riscv64", "m68k", "s390", "s390x", "sh", "sheb"] as const) {
    assert.equal(errnoFlavour(abi), "generic", abi);
  }
});

test("generic errno table equals the host's asm-generic/errno-base.h + errno.h", (t) => {
  const base = hostFile(t, "/usr/include/asm-generic/errno-base.h", "linux-libc-dev");
  const rest = hostFile(t, "/usr/include/asm-generic/errno.h", "linux-libc-dev");
  if (base === undefined || rest === undefined) return;
  const text = `${base}\n${rest}`;
  const all = parseDefines(text, /^E[A-Z0-9]+$/);
  // Names defined with a number (not an alias) are the canonical ones.
  const canonical = parseDefines(
    text.replace(/^([ \t]*#[ \t]*define[ \t]+E[A-Z0-9]+[ \t]+)E[A-Z0-9]+.*$/gm, ""),
    /^E[A-Z0-9]+$/,
  );
  assert.ok(all.size >= 130, `parsed only ${all.size} errno defines`);
  assert.equal(all.get("EHWPOISON"), 133);
  assert.equal(all.get("EWOULDBLOCK"), 11);

  for (const abi of abisOf("generic")) {
    for (const [name, n] of all) assert.equal(errnoNumber(abi, name), n, `${abi} ${name}`);
    assert.deepEqual([...errnoNames(abi)].sort(), [...canonical.keys()].sort(), `${abi} canonical names`);
    for (const [name, n] of canonical) assert.equal(errnoName(abi, n), name, `${abi} errnoName(${n})`);
  }
});

test("x86_64 errno numbers equal Python's errno module (glibc names included)", (t) => {
  if (!existsSync(DEBIAN_PYTHON)) {
    hostFile(t, DEBIAN_PYTHON, "python3");
    return;
  }
  const r = spawnSync(
    DEBIAN_PYTHON,
    [
      "-c",
      "import errno, json; print(json.dumps({'names': {n: getattr(errno, n) for n in dir(errno) if n.startswith('E') and isinstance(getattr(errno, n), int)}, 'codes': errno.errorcode}))",
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  const py = JSON.parse(r.stdout) as { names: Record<string, number>; codes: Record<string, string> };
  assert.ok(Object.keys(py.names).length > 100);
  assert.equal(py.names.ENOTSUP, 95, "glibc's ENOTSUP");
  for (const [name, n] of Object.entries(py.names)) {
    assert.equal(errnoNumber("x86_64", name), n, `errnoNumber(x86_64, ${name})`);
  }
  for (const [n, name] of Object.entries(py.codes)) {
    const ours = errnoName("x86_64", Number(n));
    assert.ok(ours !== undefined, `no name for ${n} (${name})`);
    assert.equal(errnoNumber("x86_64", name), Number(n));
  }
});

test("powerpc: generic except EDEADLOCK = 58 (its own number)", () => {
  for (const abi of abisOf("powerpc")) {
    assert.equal(errnoNumber(abi, "EDEADLOCK"), 58);
    assert.equal(errnoNumber(abi, "EDEADLK"), 35);
    assert.equal(errnoName(abi, 58), "EDEADLOCK");
    assert.equal(errnoName(abi, 35), "EDEADLK");
    for (const name of errnoNames("x86_64")) {
      assert.equal(errnoNumber(abi, name), errnoNumber("x86_64", name), `${abi} ${name}`);
    }
    assert.deepEqual(
      errnoNames(abi).filter((n) => n !== "EDEADLOCK"),
      errnoNames("x86_64"),
    );
  }
});

// Anchors read from the kernel's arch/mips/include/uapi/asm/errno.h and
// arch/parisc/include/uapi/asm/errno.h (torvalds/linux), not from our table.
const MIPS_ANCHORS: Record<string, number> = {
  ENOMSG: 35,
  EDEADLK: 45,
  ENOLCK: 46,
  EDEADLOCK: 56,
  EMULTIHOP: 74,
  EBADMSG: 77,
  ENAMETOOLONG: 78,
  EOVERFLOW: 79,
  ELIBBAD: 84,
  EILSEQ: 88,
  ENOSYS: 89,
  ELOOP: 90,
  ENOTEMPTY: 93,
  ENOPROTOOPT: 99,
  EPROTONOSUPPORT: 120,
  EOPNOTSUPP: 122,
  ENOTSUP: 122,
  EAFNOSUPPORT: 124,
  ECONNRESET: 131,
  ENOTCONN: 134,
  EUCLEAN: 135,
  EINIT: 141,
  EREMDEV: 142,
  ETIMEDOUT: 145,
  ECONNREFUSED: 146,
  EALREADY: 149,
  EINPROGRESS: 150,
  ESTALE: 151,
  ECANCELED: 158,
  EOWNERDEAD: 165,
  EHWPOISON: 168,
  EDQUOT: 1133,
  EAGAIN: 11,
  EWOULDBLOCK: 11,
};
const PARISC_ANCHORS: Record<string, number> = {
  ENOMSG: 35,
  EDEADLK: 45,
  EDEADLOCK: 45,
  ENOLCK: 46,
  EILSEQ: 47,
  ENONET: 50,
  ENOPKG: 55,
  ENOLINK: 57,
  EPROTO: 61,
  EMULTIHOP: 64,
  EDOTDOT: 66,
  EDQUOT: 69,
  ESTALE: 70,
  EOVERFLOW: 72,
  EBADE: 160,
  EKEYREJECTED: 187,
  ENOTSOCK: 216,
  EOPNOTSUPP: 223,
  ENOTSUP: 223,
  ECONNRESET: 232,
  ETIMEDOUT: 238,
  ECONNREFUSED: 239,
  EREFUSED: 239,
  EHOSTDOWN: 241,
  EHOSTUNREACH: 242,
  EALREADY: 244,
  EINPROGRESS: 245,
  ENOTEMPTY: 247,
  ENAMETOOLONG: 248,
  ELOOP: 249,
  ENOSYS: 251,
  ECANCELED: 253,
  ECANCELLED: 253,
  EOWNERDEAD: 254,
  ENOTRECOVERABLE: 255,
  ERFKILL: 256,
  EHWPOISON: 257,
  EAGAIN: 11,
  EWOULDBLOCK: 11,
};

test("mips and parisc errno anchors from the kernel headers", () => {
  for (const abi of abisOf("mips")) {
    for (const [name, n] of Object.entries(MIPS_ANCHORS)) assert.equal(errnoNumber(abi, name), n, `${abi} ${name}`);
    assert.equal(errnoName(abi, 89), "ENOSYS");
    assert.equal(errnoName(abi, 1133), "EDQUOT");
    assert.equal(errnoName(abi, 38), "EL2NSYNC");
  }
  for (const abi of abisOf("parisc")) {
    for (const [name, n] of Object.entries(PARISC_ANCHORS)) assert.equal(errnoNumber(abi, name), n, `${abi} ${name}`);
    assert.equal(errnoName(abi, 251), "ENOSYS");
    assert.equal(errnoName(abi, 253), "ECANCELED");
    assert.equal(errnoName(abi, 239), "ECONNREFUSED");
    // HP-UX leftovers dropped from current kernels.
    assert.equal(errnoNumber(abi, "ENOSYM"), undefined);
    assert.equal(errnoNumber(abi, "EREMOTERELEASE"), undefined);
    assert.equal(errnoName(abi, 252), undefined);
  }
});

test("errno values in valgrind's per-arch kernel headers agree (partial oracle)", (t) => {
  const files: [string, AbiName][] = [
    ["vki-mips32-linux.h", "mips"],
    ["vki-mips64-linux.h", "mips64"],
    ["vki-ppc32-linux.h", "ppc"],
    ["vki-ppc64-linux.h", "ppc64"],
    ["vki-s390x-linux.h", "s390x"],
    ["vki-arm-linux.h", "arm"],
    ["vki-arm64-linux.h", "aarch64"],
    ["vki-x86-linux.h", "x86"],
    ["vki-amd64-linux.h", "x86_64"],
  ];
  const dir = "/usr/include/valgrind/vki";
  if (!existsSync(dir)) {
    process.stderr.write(`\n*** SKIPPED: ${dir} not found (apt-get install valgrind) ***\n`);
    t.skip(`${dir} not found (apt-get install valgrind)`);
    return;
  }
  const known = new Set(["generic", "mips", "parisc", "powerpc"].flatMap((f) => errnoSpellings(abisOf(f as ErrnoFlavour)[0]!)));
  let compared = 0;
  for (const [file, abi] of files) {
    const path = `${dir}/${file}`;
    if (!existsSync(path)) continue;
    const defs = parseDefines(readFileSync(path, "utf8"), /^VKI_E[A-Z0-9]+$/);
    for (const [vkiName, n] of defs) {
      const name = vkiName.slice(4);
      if (!known.has(name)) continue; // VKI_ELF_NGREG and the like
      assert.equal(errnoNumber(abi, name), n, `${file}: ${name}`);
      compared++;
    }
  }
  assert.ok(compared >= 10, `compared only ${compared} values`);
});

test("errno invariants on every flavour", () => {
  const generic = "x86_64";
  for (const flavour of ["generic", "mips", "parisc", "powerpc"] as const) {
    const abi = abisOf(flavour)[0]!;
    for (let n = 1; n <= 34; n++) assert.equal(errnoName(abi, n), errnoName(generic, n), `${flavour} ${n}`);
    for (const name of errnoNames(generic)) {
      assert.ok(errnoNumber(abi, name) !== undefined, `${flavour} lacks ${name}`);
    }
    const names = errnoNames(abi);
    const numbers = names.map((name) => errnoNumber(abi, name)!);
    assert.equal(new Set(numbers).size, numbers.length, `${flavour}: two canonical names share a number`);
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), `${flavour}: errnoNames not in number order`);
    for (const name of names) assert.equal(errnoName(abi, errnoNumber(abi, name)!), name);
    for (const spelling of errnoSpellings(abi)) {
      const n = errnoNumber(abi, spelling)!;
      assert.ok(names.includes(errnoName(abi, n)!), `${flavour}: alias ${spelling} resolves to no canonical name`);
    }
    for (const n of numbers) assert.ok(n >= 1 && n <= ERRNO_MAX);
    assert.equal(errnoNumber(abi, "EAGAIN"), errnoNumber(abi, "EWOULDBLOCK"));
    assert.equal(errnoNumber(abi, "ENOTSUP"), errnoNumber(abi, "EOPNOTSUPP"));
    assert.equal(errnoName(abi, 0), undefined);
  }
});

test("parseErrno: names, numbers, range, suggestions", () => {
  assert.equal(parseErrno("x86_64", "EPERM"), 1);
  assert.equal(parseErrno("x86_64", "eperm"), 1);
  assert.equal(parseErrno("x86_64", " ENOSYS "), 38);
  assert.equal(parseErrno("mips", "ENOSYS"), 89);
  assert.equal(parseErrno("parisc64", "enosys"), 251);
  assert.equal(parseErrno("x86_64", "ENOTSUP"), 95);
  assert.equal(parseErrno("x86_64", "1"), 1);
  assert.equal(parseErrno("x86_64", "0"), 0);
  assert.equal(parseErrno("x86_64", "4095"), 4095);
  throwsCode(() => parseErrno("x86_64", "4096"), "UNKNOWN_ERRNO");
  throwsCode(() => parseErrno("x86_64", "-1"), "UNKNOWN_ERRNO");
  throwsCode(() => parseErrno("x86_64", ""), "UNKNOWN_ERRNO");
  const typo = throwsCode(() => parseErrno("x86_64", "EPRM"), "UNKNOWN_ERRNO");
  assert.ok(typo.suggestions.includes("EPERM"), `suggestions: ${typo.suggestions.join(",")}`);
  assert.match(typo.message, /EPRM/);
  assert.match(typo.message, /EPERM/);
  const mipsOnly = throwsCode(() => parseErrno("x86_64", "EINIT"), "UNKNOWN_ERRNO");
  assert.match(mipsOnly.message, /mips/);
  assert.equal(parseErrno("mipsel", "EINIT"), 141);
});

// ---------------------------------------------------------------- capabilities

test("capability table equals the host's linux/capability.h", (t) => {
  const text = hostFile(t, "/usr/include/linux/capability.h", "linux-libc-dev");
  if (text === undefined) return;
  const defs = parseDefines(text, /^CAP_[A-Z0-9_]+$/);
  const last = defs.get("CAP_LAST_CAP");
  defs.delete("CAP_LAST_CAP");
  assert.ok(defs.size >= 41, `parsed only ${defs.size} capabilities`);
  for (const [name, n] of defs) {
    assert.equal(capabilityNumber(name), n, name);
    assert.equal(capabilityName(n), name, `capabilityName(${n})`);
  }
  assert.equal(CAPABILITY_NAMES.length, defs.size, "capability count differs from the header");
  assert.equal(CAP_LAST_CAP, last);
});

test("the running kernel knows no capability that the table lacks", (t) => {
  const path = "/proc/sys/kernel/cap_last_cap";
  if (!existsSync(path)) {
    process.stderr.write(`\n*** SKIPPED: ${path} not readable (not Linux?) ***\n`);
    t.skip(`${path} not readable`);
    return;
  }
  const kernel = Number(readFileSync(path, "utf8").trim());
  assert.ok(Number.isInteger(kernel) && kernel > 30, `odd cap_last_cap ${kernel}`);
  assert.ok(
    kernel <= CAP_LAST_CAP,
    `the running kernel has capabilities up to ${kernel}, syscage's table stops at ${CAP_LAST_CAP}: add the new capabilities from include/uapi/linux/capability.h to src/abi/capabilities.ts`,
  );
});

test("capability spellings and parseCapability", () => {
  assert.equal(CAP_LAST_CAP, 40);
  assert.equal(capabilityNumber("CAP_SYS_ADMIN"), 21);
  assert.equal(capabilityNumber("cap_sys_admin"), 21);
  assert.equal(capabilityNumber("SYS_ADMIN"), 21);
  assert.equal(capabilityNumber("sys_admin"), 21);
  assert.equal(capabilityNumber("CHOWN"), 0);
  assert.equal(capabilityNumber("CAP_NOPE"), undefined);
  assert.equal(capabilityName(40), "CAP_CHECKPOINT_RESTORE");
  assert.equal(capabilityName(41), undefined);
  assert.equal(capabilityName(-1), undefined);
  assert.equal(capabilityName(1.5), undefined);
  assert.equal(parseCapability("net_admin"), 12);
  assert.equal(parseCapability("39"), 39);
  throwsCode(() => parseCapability("41"), "UNKNOWN_CAPABILITY");
  throwsCode(() => parseCapability(""), "UNKNOWN_CAPABILITY");
  const e = throwsCode(() => parseCapability("sys_admn"), "UNKNOWN_CAPABILITY");
  assert.ok(e.suggestions.includes("CAP_SYS_ADMIN"), `suggestions: ${e.suggestions.join(",")}`);
  assert.match(e.message, /sys_admn/);
});

// ---------------------------------------------------------------- socketcall / ipc

test("socketcall sub-calls equal linux/net.h SYS_*", (t) => {
  const text = hostFile(t, "/usr/include/linux/net.h", "linux-libc-dev");
  if (text === undefined) return;
  const defs = parseDefines(text, /^SYS_[A-Z0-9_]+$/);
  const fromHeader = Object.fromEntries([...defs].map(([name, n]) => [name.slice(4).toLowerCase(), n]));
  assert.ok(Object.keys(fromHeader).length >= 20);
  assert.deepEqual({ ...SOCKETCALL_SUBCALLS }, fromHeader);
});

test("ipc sub-calls equal linux/ipc.h", (t) => {
  const text = hostFile(t, "/usr/include/linux/ipc.h", "linux-libc-dev");
  if (text === undefined) return;
  const defs = parseDefines(text, /^(SEM|MSG|SHM)[A-Z]+$/);
  const fromHeader = Object.fromEntries([...defs].map(([name, n]) => [name.toLowerCase(), n]));
  assert.equal(Object.keys(fromHeader).length, 12, JSON.stringify(fromHeader));
  assert.deepEqual({ ...IPC_SUBCALLS }, fromHeader);
});

// Facts from the kernel's syscall tables (v7.3): socketcall 102 / ipc 117 are
// listed for i386, m68k, mips o32, powerpc, s390, sh; arm has them only as
// "oabi" entries (not in EABI); x86_64, x32, arm64/generic, mips n32/n64 and
// parisc have neither.
test("hasSocketcall / hasIpc: known ABIs", () => {
  for (const abi of ["x86", "s390x", "ppc64le", "m68k", "mips", "sh"] as const) {
    assert.equal(hasSocketcall(abi), true, `${abi} socketcall`);
    assert.equal(hasIpc(abi), true, `${abi} ipc`);
  }
  for (const abi of ["x86_64", "aarch64", "x32", "riscv64", "mips64", "arm", "parisc"] as const) {
    assert.equal(hasSocketcall(abi), false, `${abi} socketcall`);
    assert.equal(hasIpc(abi), false, `${abi} ipc`);
  }
});

test("hasSocketcall / hasIpc agree with libseccomp", (t) => {
  if (!needOracle(t, "python3-seccomp")) return;
  const script = [
    "import seccomp, json, sys",
    "out = {}",
    "for tok in sys.argv[1:]:",
    "    arch = getattr(seccomp.Arch, tok, None)",
    "    if arch is None: continue",
    "    out[tok] = [seccomp.resolve_syscall(arch, 'socketcall') >= 0, seccomp.resolve_syscall(arch, 'ipc') >= 0]",
    "print(json.dumps(out))",
  ].join("\n");
  const byToken = new Map<string, AbiName>();
  for (const abi of ABI_NAMES) byToken.set(getAbi(abi).scmpName.replace(/^SCMP_ARCH_/, ""), abi);
  const r = spawnSync(DEBIAN_PYTHON, ["-c", script, ...byToken.keys()], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lib = JSON.parse(r.stdout) as Record<string, [boolean, boolean]>;
  assert.ok(Object.keys(lib).length >= 15, `libseccomp knew only ${Object.keys(lib).join(",")}`);
  for (const [tok, [sock, ipc]] of Object.entries(lib)) {
    const abi = byToken.get(tok)!;
    assert.equal(hasSocketcall(abi), sock, `${abi} socketcall (libseccomp says ${sock})`);
    assert.equal(hasIpc(abi), ipc, `${abi} ipc (libseccomp says ${ipc})`);
  }
});

test("multiplexedAs and subcallName", () => {
  assert.deepEqual(multiplexedAs("x86", "socket"), { via: "socketcall", subcall: 1 });
  assert.deepEqual(multiplexedAs("x86", "accept4"), { via: "socketcall", subcall: 18 });
  assert.deepEqual(multiplexedAs("s390x", "sendmmsg"), { via: "socketcall", subcall: 20 });
  assert.deepEqual(multiplexedAs("x86", "semop"), { via: "ipc", subcall: 1 });
  assert.deepEqual(multiplexedAs("ppc", "shmctl"), { via: "ipc", subcall: 24 });
  assert.equal(multiplexedAs("x86_64", "socket"), undefined);
  assert.equal(multiplexedAs("aarch64", "semop"), undefined);
  assert.equal(multiplexedAs("x86", "read"), undefined);
  assert.equal(multiplexedAs("x86", "toString"), undefined);
  assert.equal(multiplexedAs("x86", "recvmmsg_time64"), undefined);
  assert.equal(subcallName("socketcall", 1), "socket");
  assert.equal(subcallName("socketcall", 20), "sendmmsg");
  assert.equal(subcallName("socketcall", 0), undefined);
  assert.equal(subcallName("socketcall", 21), undefined);
  assert.equal(subcallName("ipc", 21), "shmat");
  assert.equal(subcallName("ipc", 25), undefined); // DIPC, never implemented
  for (const [name, n] of Object.entries(SOCKETCALL_SUBCALLS)) assert.equal(subcallName("socketcall", n), name);
  for (const [name, n] of Object.entries(IPC_SUBCALLS)) assert.equal(subcallName("ipc", n), name);
  assert.equal(SUBCALL_ARG_MASK.ipc, 0xffff);
  assert.equal(SUBCALL_ARG_MASK.socketcall, 0xffffffff);
});
