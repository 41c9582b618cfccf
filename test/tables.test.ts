/**
 * Syscall tables: compared with libseccomp 2.5.4 (the python module and the
 * scmp_sys_resolver binary), with libseccomp main's syscalls.csv (Linux
 * 7.1-rc4), and checked for internal invariants. Every known difference is
 * listed below with its reason; an unlisted difference fails, and so does a
 * listed one that no longer occurs.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ABI_NAMES, getAbi, X32_SYSCALL_BIT, type AbiName } from "../src/abi/arch.js";
import {
  TABLES_KERNEL_VERSION,
  knownSyscallNames,
  parseSyscallNumber,
  resolveSyscall,
  syscallName,
  syscallNumber,
  syscallTable,
} from "../src/abi/tables.js";
import { SyscageError } from "../src/errors.js";
import { generateTables, OUTPUT_FILE } from "../scripts/gen-tables.js";
import { DEBIAN_PYTHON, needOracle, sharedDataDir } from "./helpers/oracles.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const offset = (abi: AbiName): number => getAbi(abi).nrOffset;

/** A difference between our table and a reference, for one (ABI, name). */
interface Diff {
  readonly abi: AbiName;
  readonly name: string;
  /** Our number (seccomp_data.nr), undefined when absent. */
  readonly ours: number | undefined;
  /** The reference's number (seccomp_data.nr), undefined when absent. */
  readonly ref: number | undefined;
}

/** A documented difference. */
interface Exception {
  readonly reason: string;
  readonly covers: (d: Diff) => boolean;
}

/** Checks diffs against exceptions: returns unexplained diffs and exceptions that never matched. */
function classify(diffs: readonly Diff[], exceptions: readonly Exception[]): { unexplained: string[]; unused: string[] } {
  const hits = new Map<Exception, number>(exceptions.map((e) => [e, 0]));
  const unexplained: string[] = [];
  for (const d of diffs) {
    const e = exceptions.find((x) => x.covers(d));
    if (e === undefined) unexplained.push(`${d.abi} ${d.name}: ours ${d.ours ?? "absent"}, reference ${d.ref ?? "absent"}`);
    else hits.set(e, hits.get(e)! + 1);
  }
  const unused = exceptions.filter((e) => hits.get(e) === 0).map((e) => e.reason);
  return { unexplained, unused };
}

/** Only ours has it (reference absent). */
const onlyOurs = (abi: AbiName, name: string) => (d: Diff) =>
  d.abi === abi && d.name === name && d.ours !== undefined && d.ref === undefined;

// ---------------------------------------------------------------------------
// Facts from the kernel's uapi headers, independent of our generator.
// ---------------------------------------------------------------------------

describe("well-known numbers (kernel uapi facts)", () => {
  const facts: [AbiName, string, number][] = [
    ["x86_64", "read", 0],
    ["x86_64", "openat", 257],
    ["x86", "socketcall", 102],
    ["x86", "openat", 295],
    ["x32", "openat", 0x40000000 + 257],
    ["aarch64", "openat", 56],
    ["riscv64", "openat", 56],
    ["arm", "openat", 322],
    ["arm", "set_tls", 0xf0005], // __ARM_NR_set_tls = __ARM_NR_BASE + 5
    ["mips", "read", 4003], // __NR_Linux 4000 + 3
    ["mips64", "read", 5000],
    ["mips64n32", "read", 6000],
    ["s390x", "read", 3],
    ["ppc64le", "read", 3],
  ];
  for (const [abi, name, nr] of facts) {
    test(`${abi} ${name} = ${nr}`, () => {
      assert.equal(syscallNumber(abi, name), nr);
      assert.equal(syscallName(abi, nr), name);
      assert.equal(resolveSyscall(abi, name), nr);
    });
  }
});

// ---------------------------------------------------------------------------
// Invariants.
// ---------------------------------------------------------------------------

describe("table invariants", () => {
  test("kernel version recorded", () => {
    assert.equal(TABLES_KERNEL_VERSION, "7.3-rc7");
  });

  for (const abi of ABI_NAMES) {
    test(`${abi}: non-empty, sorted, no duplicate names or numbers, numbers in range`, () => {
      const t = syscallTable(abi);
      assert.ok(t.length > 300, `${abi} has only ${t.length} syscalls`);
      for (let i = 1; i < t.length; i++) assert.ok(t[i - 1]!.nr < t[i]!.nr, `${abi}: not strictly sorted at ${t[i]!.name}`);
      assert.equal(new Set(t.map((e) => e.name)).size, t.length, `${abi}: duplicate names`);
      for (const e of t) {
        assert.ok(!/^(?:unused|reserved)\d+$/.test(e.name), `${abi}: placeholder ${e.name} not dropped`);
        assert.equal(syscallNumber(abi, e.name), e.nr);
        assert.equal(syscallName(abi, e.nr), e.name);
        const off = offset(abi);
        if (abi === "x32") assert.ok((e.nr & X32_SYSCALL_BIT) !== 0 && e.nr - X32_SYSCALL_BIT < 1000, `x32 ${e.name}=${e.nr} lacks bit 30`);
        else if (off !== 0) assert.ok(e.nr >= off && e.nr < off + 1000, `${abi} ${e.name}=${e.nr} outside ${off}…${off + 999}`);
        else if (abi === "arm" && e.nr >= 0xf0000) assert.ok(e.nr <= 0xf0006, `arm private ${e.name}=${e.nr}`);
        else assert.ok(e.nr >= 0 && e.nr < 1000, `${abi} ${e.name}=${e.nr}`);
      }
    });
  }

  test("twin ABIs share tables (endianness does not change numbers)", () => {
    const pairs: [AbiName, AbiName][] = [
      ["mips", "mipsel"],
      ["mips64", "mipsel64"],
      ["mips64n32", "mipsel64n32"],
      ["ppc64", "ppc64le"],
      ["sh", "sheb"],
    ];
    for (const [a, b] of pairs) assert.deepEqual(syscallTable(a), syscallTable(b), `${a} vs ${b}`);
  });

  test("knownSyscallNames is the union over all ABIs", () => {
    const all = knownSyscallNames();
    for (const abi of ABI_NAMES) for (const e of syscallTable(abi)) assert.ok(all.has(e.name));
    assert.ok(all.has("set_tls") && all.has("socketcall") && all.has("fchroot"));
    assert.ok(!all.has("unused18"));
  });

  test("since: fchroot is 7.3 on every ABI that has it", () => {
    for (const abi of ABI_NAMES) {
      const f = syscallTable(abi).find((e) => e.name === "fchroot");
      if (abi === "s390") assert.equal(f, undefined, "31-bit s390 ended in v6.18, before fchroot");
      else assert.equal(f?.since, "7.3", abi);
    }
  });

  test("the committed generated file is up to date", (t) => {
    const dir = sharedDataDir(t);
    if (dir === null) return;
    const committed = readFileSync(path.join(repoRoot, OUTPUT_FILE), "utf8");
    assert.ok(committed.startsWith("// generated by scripts/gen-tables.ts — do not edit"));
    assert.equal(generateTables(dir).text, committed, "run: npx tsx scripts/gen-tables.ts");
  });
});

describe("lookup errors", () => {
  test("a typo gets close suggestions", () => {
    assert.throws(
      () => resolveSyscall("x86_64", "opnat"),
      (e: unknown) => e instanceof SyscageError && e.code === "UNKNOWN_SYSCALL" && e.suggestions.includes("openat") && /"opnat" on x86_64/.test(e.message),
    );
  });
  test("a name from other ABIs says where it exists", () => {
    assert.throws(
      () => resolveSyscall("x86_64", "socketcall"),
      (e: unknown) => e instanceof SyscageError && e.code === "UNKNOWN_SYSCALL" && /exists on x86, .*but not on x86_64/.test(e.message),
    );
    assert.throws(
      () => resolveSyscall("aarch64", "open"),
      (e: unknown) => e instanceof SyscageError && /does not exist on aarch64/.test(e.message) && e.suggestions.includes("openat"),
    );
  });
  test("parseSyscallNumber", () => {
    assert.equal(parseSyscallNumber("257"), 257);
    assert.equal(parseSyscallNumber("0x101"), 257);
    assert.equal(parseSyscallNumber("0X40000101"), 0x40000101);
    for (const bad of ["", "12ab", "-1", "0x", "1.5", "0x100000000", "open"]) {
      assert.throws(() => parseSyscallNumber(bad), (e: unknown) => e instanceof SyscageError && e.code === "BAD_SYSCALL_NUMBER", bad);
    }
  });
});

// ---------------------------------------------------------------------------
// libseccomp 2.5.4 (Debian): python module for everything, binary for a sample.
// ---------------------------------------------------------------------------

/** The ABIs libseccomp 2.5.4 knows (no loongarch64, m68k, sh, sheb). */
const LIBSECCOMP_254_ABIS: readonly AbiName[] = [
  "x86", "x86_64", "x32", "arm", "aarch64", "mips", "mips64", "mips64n32", "mipsel", "mipsel64",
  "mipsel64n32", "parisc", "parisc64", "ppc", "ppc64", "ppc64le", "riscv64", "s390", "s390x",
];

/**
 * Differences between our tables (Linux 7.3-rc7) and libseccomp 2.5.4's
 * number ↔ name tables, grouped by rule.
 */
const LIBSECCOMP_254_EXCEPTIONS: readonly Exception[] = [
  {
    reason: "syscalls 457–472 (statmount … fchroot, Linux 6.8–7.3) are newer than libseccomp 2.5.4's tables",
    covers: (d) => d.ours !== undefined && d.ref === undefined && d.ours - offset(d.abi) >= 457 && d.ours - offset(d.abi) <= 472,
  },
  ...(["x86_64", "x32"] as const).flatMap((abi) => [
    { reason: `${abi} uretprobe (335, Linux 6.11) is newer than libseccomp 2.5.4`, covers: onlyOurs(abi, "uretprobe") },
    { reason: `${abi} uprobe (336, Linux 6.16) is newer than libseccomp 2.5.4`, covers: onlyOurs(abi, "uprobe") },
  ]),
  {
    reason: "x32 map_shadow_stack (453, 'common' in syscall_64.tbl since Linux 6.6): libseccomp 2.5.4 lists it for x86_64 only",
    covers: onlyOurs("x32", "map_shadow_stack"),
  },
  { reason: "riscv64 riscv_hwprobe (258, Linux 6.4) is missing from libseccomp 2.5.4's riscv64 table", covers: onlyOurs("riscv64", "riscv_hwprobe") },
  {
    reason: "libseccomp 2.5.4 table error: parisc64 _llseek=140, but parisc's table has _llseek only for ABI 32 (libseccomp main: PNR)",
    covers: (d) => d.abi === "parisc64" && d.name === "_llseek" && d.ours === undefined && d.ref === 140,
  },
];

/** The calls that socketcall(2) multiplexes (linux/net.h SYS_*). */
const SOCKETCALL_CALLS = new Set([
  "socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername", "socketpair", "send", "recv",
  "sendto", "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg", "sendmmsg",
]);
/** The calls that ipc(2) multiplexes (linux/ipc.h). */
const IPC_CALLS = new Set(["semop", "semget", "semctl", "semtimedop", "msgsnd", "msgrcv", "msgget", "msgctl", "shmat", "shmdt", "shmget", "shmctl"]);

/**
 * The python binding's resolve_syscall(arch, name) rewrites socket and IPC
 * calls to their multiplexer on ABIs that have one (it calls libseccomp's
 * "rewrite" resolver): e.g. x86 "socket" → 102 (socketcall). This gives the
 * number libseccomp expects for a name, given our table.
 */
function expectedPythonNameLookup(abi: AbiName, name: string): number | undefined {
  const socketcall = syscallNumber(abi, "socketcall");
  const ipc = syscallNumber(abi, "ipc");
  if (socketcall !== undefined && SOCKETCALL_CALLS.has(name)) return socketcall;
  if (ipc !== undefined && IPC_CALLS.has(name)) return ipc;
  return syscallNumber(abi, name);
}

interface PyResult {
  readonly accepted: string[];
  readonly results: Record<string, { byName: Record<string, number>; byNr: Record<string, string> }>;
}

const PY_ORACLE = `
import json, sys, seccomp
req = json.load(sys.stdin)
out = {"accepted": [], "results": {}}
for spec in req:
    if not hasattr(seccomp.Arch, spec["scmp"]):
        continue
    out["accepted"].append(spec["abi"])
    arch = getattr(seccomp.Arch, spec["scmp"])
    by_name = {}
    for n in spec["names"]:
        nr = seccomp.resolve_syscall(arch, n)
        if nr >= 0:
            by_name[n] = nr
    by_nr = {}
    for lo, hi in spec["ranges"]:
        for nr in range(lo, hi):
            try:
                by_nr[str(nr)] = seccomp.resolve_syscall(arch, nr).decode()
            except ValueError:
                pass
    out["results"][spec["abi"]] = {"byName": by_name, "byNr": by_nr}
json.dump(out, sys.stdout)
`;

let pyCache: PyResult | undefined;
function runPythonOracle(): PyResult {
  if (pyCache !== undefined) return pyCache;
  const names = [...knownSyscallNames(), ...SOCKETCALL_CALLS, ...IPC_CALLS];
  const req = ABI_NAMES.map((abi) => {
    const off = offset(abi);
    const isArmPrivate = (nr: number): boolean => abi === "arm" && nr >= 0xf0000;
    const maxNr = Math.max(...syscallTable(abi).filter((e) => !isArmPrivate(e.nr)).map((e) => e.nr - off));
    return {
      abi,
      scmp: getAbi(abi).scmpName.replace(/^SCMP_ARCH_/, ""),
      names: [...new Set(names)],
      ranges: [
        [off, off + maxNr + 200],
        [0xf0000, 0xf0100], // ARM's private range
      ],
    };
  });
  const r = spawnSync(DEBIAN_PYTHON, ["-c", PY_ORACLE], { input: JSON.stringify(req), encoding: "utf8", maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `python oracle failed: ${r.stderr}`);
  pyCache = JSON.parse(r.stdout) as PyResult;
  return pyCache;
}

describe("libseccomp 2.5.4 (python3-seccomp)", () => {
  test("accepts the expected ABIs", (t) => {
    if (!needOracle(t, "python3-seccomp")) return;
    const { accepted } = runPythonOracle();
    for (const abi of LIBSECCOMP_254_ABIS) assert.ok(accepted.includes(abi), `libseccomp does not accept ${abi}`);
  });

  test("x32 numbers from libseccomp include the 0x40000000 bit", (t) => {
    if (!needOracle(t, "python3-seccomp")) return;
    const r = runPythonOracle().results.x32!;
    assert.equal(r.byName.openat, X32_SYSCALL_BIT + 257);
    assert.ok(Object.keys(r.byNr).every((nr) => Number(nr) >= X32_SYSCALL_BIT || Number(nr) >= 0xf0000));
  });

  test("number → name agrees for every number on every ABI both know", (t) => {
    if (!needOracle(t, "python3-seccomp")) return;
    const py = runPythonOracle();
    const diffs: Diff[] = [];
    for (const abi of py.accepted as AbiName[]) {
      const lib = new Map(Object.entries(py.results[abi]!.byNr).map(([nr, name]) => [Number(nr), name]));
      const nrs = new Set([...lib.keys(), ...syscallTable(abi).map((e) => e.nr)]);
      for (const nr of nrs) {
        const ours = syscallName(abi, nr);
        const theirs = lib.get(nr);
        if (ours === theirs) continue;
        if (ours !== undefined) diffs.push({ abi, name: ours, ours: nr, ref: theirs === undefined ? undefined : nr });
        if (theirs !== undefined) diffs.push({ abi, name: theirs, ours: syscallNumber(abi, theirs), ref: nr });
      }
    }
    const { unexplained, unused } = classify(diffs, LIBSECCOMP_254_EXCEPTIONS);
    assert.deepEqual(unexplained, [], "differences from libseccomp 2.5.4 not listed as exceptions");
    assert.deepEqual(unused, [], "listed exceptions that no longer occur");
  });

  test("name → number agrees for every name (socket/IPC calls map to their multiplexer)", (t) => {
    if (!needOracle(t, "python3-seccomp")) return;
    const py = runPythonOracle();
    const diffs: Diff[] = [];
    let muxChecked = 0;
    for (const abi of py.accepted as AbiName[]) {
      const lib = py.results[abi]!.byName;
      const names = new Set([...Object.keys(lib), ...syscallTable(abi).map((e) => e.name)]);
      for (const name of names) {
        const expected = expectedPythonNameLookup(abi, name);
        const theirs = lib[name];
        if (expected !== syscallNumber(abi, name) && theirs === expected) muxChecked++;
        if (expected === theirs) continue;
        diffs.push({ abi, name, ours: expected, ref: theirs });
      }
    }
    assert.ok(muxChecked > 100, `multiplexer rule exercised only ${muxChecked} times`);
    const { unexplained, unused } = classify(diffs, LIBSECCOMP_254_EXCEPTIONS);
    assert.deepEqual(unexplained, [], "differences from libseccomp 2.5.4 not listed as exceptions");
    assert.deepEqual(unused, [], "listed exceptions that no longer occur");
  });
});

describe("libseccomp 2.5.4 (scmp_sys_resolver binary), sampled", () => {
  test("50 random (ABI, syscall) pairs plus fixed cases, both directions", (t) => {
    if (!needOracle(t, "scmp_sys_resolver")) return;
    // Deterministic sample (LCG), so a failure is reproducible.
    let seed = 0x5eed;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pairs: [AbiName, string][] = [
      ["x32", "openat"],
      ["mips", "read"],
      ["mips64n32", "read"],
      ["arm", "set_tls"],
      ["x86", "socket"],
    ];
    for (let i = 0; i < 50; i++) {
      const abi = LIBSECCOMP_254_ABIS[rand(LIBSECCOMP_254_ABIS.length)]!;
      const table = syscallTable(abi);
      pairs.push([abi, table[rand(table.length)]!.name]);
    }
    const run = (abi: string, arg: string): string => {
      const r = spawnSync("scmp_sys_resolver", ["-a", abi, arg], { encoding: "utf8" });
      assert.equal(r.status, 0, `scmp_sys_resolver -a ${abi} ${arg}: ${r.stderr}`);
      return r.stdout.trim();
    };
    for (const [abi, name] of pairs) {
      const nr = syscallNumber(abi, name)!;
      const newer = LIBSECCOMP_254_EXCEPTIONS.some((e) => e.covers({ abi, name, ours: nr, ref: undefined }));
      const byNr = run(abi, String(nr));
      assert.equal(byNr, newer ? "UNKNOWN" : name, `scmp_sys_resolver -a ${abi} ${nr}`);
      const byName = Number(run(abi, name));
      // The binary (without -t) does not rewrite: absent and multiplexed
      // socket/IPC calls on multiplexing ABIs come back as negative pseudo numbers.
      const muxed = expectedPythonNameLookup(abi, name) !== nr;
      if (newer || muxed) assert.ok(byName < 0, `scmp_sys_resolver -a ${abi} ${name} = ${byName}`);
      else assert.equal(byName, nr, `scmp_sys_resolver -a ${abi} ${name}`);
    }
  });
});

// ---------------------------------------------------------------------------
// libseccomp main's syscalls.csv (Linux 7.1-rc4) and syscalls.s390.csv (v6.18).
// ---------------------------------------------------------------------------

/** CSV text → column → (name → cell). */
function readCsv(file: string): Map<string, Map<string, string>> {
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "");
  const header = lines[0]!.split(",");
  const cols = new Map<string, Map<string, string>>(header.slice(1).map((h) => [h.trim(), new Map()]));
  for (const line of lines.slice(1)) {
    const cells = line.split(",");
    header.slice(1).forEach((h, i) => cols.get(h.trim())!.set(cells[0]!, cells[i + 1]!.trim()));
  }
  return cols;
}

/** Which CSV column holds each of our ABIs (twins share one). s390 is compared with the s390 CSV. */
const CSV_COLUMN: Readonly<Record<Exclude<AbiName, "s390">, string>> = {
  x86: "x86", x86_64: "x86_64", x32: "x32", arm: "arm", aarch64: "aarch64", loongarch64: "loongarch64",
  m68k: "m68k", mips: "mips", mipsel: "mips", mips64: "mips64", mipsel64: "mips64", mips64n32: "mips64n32",
  mipsel64n32: "mips64n32", parisc: "parisc", parisc64: "parisc64", ppc: "ppc", ppc64: "ppc64",
  ppc64le: "ppc64", riscv64: "riscv64", s390x: "s390x", sh: "sh", sheb: "sh",
};

const CSV_EXCEPTIONS: readonly Exception[] = [
  {
    reason: "fchroot (472, Linux 7.3) is newer than the CSV's Linux 7.1-rc4 (SOURCES.md)",
    covers: (d) => d.name === "fchroot" && d.ours === 472 + offset(d.abi) && d.ref === undefined,
  },
  {
    reason: "loongarch64 memfd_secret (447): the kernel selects common,64,memfd_secret; libseccomp's arch-syscall-validate only common,64",
    covers: (d) => d.abi === "loongarch64" && d.name === "memfd_secret" && d.ours === 447 && d.ref === undefined,
  },
];

/** A CSV cell as seen in seccomp_data.nr, undefined for PNR. */
function csvNumber(abi: AbiName, cell: string | undefined): number | undefined {
  if (cell === undefined || cell === "PNR") return undefined;
  const n = Number(cell);
  assert.ok(Number.isInteger(n) && n >= 0, `bad CSV cell ${cell}`);
  if (abi === "x32") {
    assert.ok(n < X32_SYSCALL_BIT, "the CSV stores x32 numbers without the x32 bit");
    return n + X32_SYSCALL_BIT;
  }
  const off = offset(abi);
  return n < off ? n + off : n; // MIPS columns: accept with or without the offset
}

describe("libseccomp main syscalls.csv (Linux 7.1-rc4)", () => {
  test("every (ABI, name) agrees, except the listed differences", (t) => {
    const dir = sharedDataDir(t);
    if (dir === null) return;
    const csv = readCsv(path.join(dir, "libseccomp-syscalls.csv"));
    const diffs: Diff[] = [];
    for (const [abi, column] of Object.entries(CSV_COLUMN) as [AbiName, string][]) {
      const cells = csv.get(column);
      assert.ok(cells !== undefined, `CSV has no column ${column}`);
      for (const name of new Set([...cells.keys(), ...syscallTable(abi).map((e) => e.name)])) {
        assert.ok(!/^(?:unused|reserved)\d+$/.test(name), `placeholder ${name}`);
        const ours = syscallNumber(abi, name);
        const ref = csvNumber(abi, cells.get(name));
        if (ours !== ref) diffs.push({ abi, name, ours, ref });
      }
    }
    const { unexplained, unused } = classify(diffs, CSV_EXCEPTIONS);
    assert.deepEqual(unexplained, [], "differences from libseccomp's CSV not listed as exceptions");
    assert.deepEqual(unused, [], "listed exceptions that no longer occur");
  });

  test("the MIPS columns hold numbers without the 4000/5000/6000 offset", (t) => {
    const dir = sharedDataDir(t);
    if (dir === null) return;
    const csv = readCsv(path.join(dir, "libseccomp-syscalls.csv"));
    for (const col of ["mips", "mips64", "mips64n32"]) {
      for (const cell of csv.get(col)!.values()) if (cell !== "PNR") assert.ok(Number(cell) < 1000, `${col} ${cell}`);
    }
  });

  test("31-bit s390 equals libseccomp's syscalls.s390.csv (frozen at v6.18)", (t) => {
    const dir = sharedDataDir(t);
    if (dir === null) return;
    const cells = readCsv(path.join(dir, "libseccomp-syscalls.s390.csv")).get("s390")!;
    const ours = new Map(syscallTable("s390").map((e) => [e.name, e.nr]));
    assert.deepEqual(ours, new Map([...cells].map(([n, c]) => [n, Number(c)])));
  });

  test("since agrees with the CSV's *_kver columns (all SCMP_KV_UNDEF in this copy) plus fchroot = 7.3", (t) => {
    const dir = sharedDataDir(t);
    if (dir === null) return;
    const csv = readCsv(path.join(dir, "libseccomp-syscalls.csv"));
    let defined = 0;
    for (const [abi, column] of Object.entries(CSV_COLUMN) as [AbiName, string][]) {
      const kv = csv.get(`${column}_kver`)!;
      for (const e of syscallTable(abi)) {
        const m = /^SCMP_KV_(\d+)_(\d+)$/.exec(kv.get(e.name) ?? "");
        if (m !== null) defined++;
        const expected = m !== null ? `${m[1]}.${m[2]}` : e.name === "fchroot" ? "7.3" : undefined;
        assert.equal(e.since, expected, `${abi} ${e.name}`);
      }
    }
    assert.equal(defined, 0, "the CSV now has kernel versions: update this test's description");
  });
});
