/**
 * The attack suite of `syscage run` on the real kernel, as root and as an
 * unprivileged user: each way a confined process might get around its filter
 * must fail. Every denied probe is checked against a baseline without a
 * filter, so a result that the kernel would give anyway cannot pass for the
 * filter's work. And: the same raw program loaded by `bwrap --seccomp FD`
 * gives the same results as our helper.
 */
import assert from "node:assert/strict";
import { spawn as nodeSpawn, spawnSync } from "node:child_process";
import { describe, test, type TestContext } from "node:test";
import { parseCapability } from "../src/abi/capabilities.js";
import { encodeProgram } from "../src/bpf/codec.js";
import { compile } from "../src/compile/index.js";
import { definePolicy } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { run, type RunOptions } from "../src/run/spawn.js";
import { REQUIRE_ORACLES } from "./helpers/oracles.js";
import { needHost, withoutI386 } from "./helpers/host.js";
import { AUDIT_SOCKET_ARGS, ERRNO, IOPERM_ARGS, IOPL_ARGS, NOBODY, NR, baseline, needRoot, setup, unprivilegedHelper } from "./helpers/run-probe.js";

const HIGH = 1n << 32n;
const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

async function probeUnder(probe: string, specs: readonly string[], opts: RunOptions = {}): Promise<string[]> {
  const r = await run(probe, specs, { ...opts, capture: true });
  assert.equal(r.code, 0, `probe exited ${r.code} (${r.signal}): ${r.stderr}`);
  return r.stdout!.trimEnd().split("\n");
}

/** Probe under the filter and without; every probe must give `want` under it and something else without. */
async function assertFilterDecides(probe: string, cases: readonly [string, string][], opts: RunOptions, uid: number | undefined): Promise<void> {
  const specs = cases.map(([s]) => s);
  const got = await probeUnder(probe, specs, opts);
  const base = baseline(probe, specs, uid);
  cases.forEach(([spec, want], i) => {
    assert.equal(got[i], want, `${spec}: under the filter`);
    assert.notEqual(base[i], want, `${spec}: without a filter the kernel gives ${base[i]}, so this probe cannot show the filter's work`);
  });
}

for (const who of ["root", "unprivileged"] as const) {
  // A getter: the helper is copied after setup() has built it, when a test spreads `as`.
  const as: RunOptions = who === "root" ? {} : { uid: NOBODY, gid: NOBODY, get helper() { return unprivilegedHelper(); } };
  const uid = who === "root" ? undefined : NOBODY;
  const EPERM = `err ${ERRNO.EPERM}`;

  describe(`attacks under the nspawn default, as ${who}`, () => {
    test("denied calls through int $0x80 (i386) from a 64-bit process", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      if (!needHost(t, "i386", "the interpreter and the libseccomp differential on every x86 number, and the x32 and native attacks here")) return;
      await assertFilterDecides(
        probe,
        [
          [`i386:${NR.i386.ioperm}${IOPERM_ARGS}`, EPERM],
          [`i386:${NR.i386.iopl}${IOPL_ARGS}`, EPERM],
        ],
        as,
        uid,
      );
      // An allowed i386 call is judged by the i386 table, not the x86_64 one (i386 20 = getpid, x86_64 20 = writev).
      const [getpid] = await probeUnder(probe, [`i386:${NR.i386.getpid}`], as);
      assert.equal(getpid, baseline(probe, [`i386:${NR.i386.getpid}`], uid)[0]);
    });

    test("denied calls made with x32 numbers (bit 30)", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      await assertFilterDecides(
        probe,
        [
          [`native:${NR.x32.ioperm}${IOPERM_ARGS}`, EPERM],
          [`native:${NR.x32.iopl}${IOPL_ARGS}`, EPERM],
        ],
        as,
        uid,
      );
      // x32 numbers never fall into the x86_64 table: bit 30 plus an x86_64-only number is unknown → ENOSYS, not allowed.
      const [x32Hole] = await probeUnder(probe, [`native:${0x40000000 + 13}`], as); // x86_64 13 = rt_sigaction; x32 13 is not a syscall
      assert.equal(x32Hole, `err ${ERRNO.ENOSYS}`);
    });

    test("nr = -1 and numbers with high bits", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const specs = withoutI386(t, ["native:-1", "i386:-1", `native:${hex(0xffffffffn)}`], (s) => s.includes("i386:"));
      const got = await probeUnder(probe, specs, as);
      assert.deepEqual(got, specs.map(() => `err ${ERRNO.ENOSYS}`), "unknown, not killed, not allowed");
      // The kernel hands the filter the low 32 bits of rax: a denied number with high bits set is still denied.
      await assertFilterDecides(probe, [[`native:${hex(HIGH + BigInt(NR.ioperm))}${IOPERM_ARGS}`, EPERM]], as, uid);
    });

    test("a child cannot lift its filter, no_new_privs or capabilities", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const SYS_MODULE = parseCapability("CAP_SYS_MODULE"); // not retained by nspawn
      const got = await probeUnder(
        probe,
        [`add-allow:native:${NR.ioperm}${IOPERM_ARGS}`, "nnp-off", "seccomp-strict", `capset-raise:${SYS_MODULE}`, `ambient-raise:${SYS_MODULE}`, `exec:add-allow:native:${NR.ioperm}${IOPERM_ARGS}`],
        as,
      );
      // A permissive filter stacks on top: ours still decides.
      assert.ok(got[0] === EPERM || /^load-failed /.test(got[0]!), `add-allow: ${got[0]}`);
      assert.equal(got[1], `err ${ERRNO.EINVAL}`, "no_new_privs cannot be cleared");
      assert.equal(got[2], `err ${ERRNO.EINVAL}`, "no switch from filter to strict mode");
      assert.equal(got[3], EPERM, "capset cannot raise a capability that was dropped");
      assert.equal(got[4], EPERM, "nor can the ambient set");
      assert.ok(got[5] === EPERM || /^load-failed /.test(got[5]!), `grandchild add-allow: ${got[5]}`);
      // Without a filter, root could raise it (the test would show nothing otherwise).
      if (who === "root") assert.equal(baseline(probe, [`capset-raise:${SYS_MODULE}`])[0], "ok");
    });
  });

  describe(`argument checks, as ${who}`, () => {
    // Plain EQ / NE conditions on int arguments. Under the default argumentWidth "kernel" they
    // compare the low 32 bits (what the kernel uses); under "u64" all 64 (libseccomp's reading).
    const policy = definePolicy({
      default: "ALLOW",
      rules: [
        { syscall: "getpriority", action: "ERRNO(EXDEV)", conditions: [{ arg: 0, op: "NE", value: 0 }] },
        { syscall: "dup", action: "ERRNO(EXDEV)", conditions: [{ arg: 0, op: "EQ", value: 1 }] },
      ],
    });
    const wide = { ...policy, argumentWidth: "u64" as const };
    const EXDEV = `err ${ERRNO.EXDEV}`;

    test("setting only the high 32 bits does not get past an argument check", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      await assertFilterDecides(
        probe,
        [
          // dup(1 + 2^32) is dup(1) to the kernel (unsigned int fildes); so it is to the filter.
          [`native:${NR.dup}:${hex(HIGH + 1n)}`, EXDEV],
          [`native:${NR.dup}:${hex(0xffff_ffff_0000_0001n)}`, EXDEV],
          [`native:${NR.dup}:1`, EXDEV],
        ],
        { ...as, policy },
        uid,
      );
      // getpriority(which = 2^32) is getpriority(PRIO_PROCESS = 0) to the kernel (int which), and
      // the filter reads the same 0: allowed, as getpriority(0, 0) is.
      const ok = await probeUnder(probe, [`native:${NR.getpriority}:0,0`, `native:${NR.getpriority}:${hex(HIGH)},0`, `native:${NR.dup}:${hex(HIGH + 2n)}`], { ...as, policy });
      assert.deepEqual(ok, ["ok", "ok", "ok"]);
    });

    test('argumentWidth "u64": exact 64-bit comparisons, and the high-bits hole they leave', async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const got = await probeUnder(probe, [`native:${NR.getpriority}:${hex(HIGH)},0`, `native:${NR.dup}:${hex(HIGH + 1n)}`, `native:${NR.dup}:1`], { ...as, policy: wide });
      // 2^32 is not 0 to a 64-bit comparison; dup(1 + 2^32) slips past `EQ 1` and the kernel runs dup(1).
      assert.deepEqual(got, [EXDEV, "ok", EXDEV]);
    });

    test("the same through x32 numbers", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const got = await probeUnder(probe, [`native:${NR.x32.getpriority}:${hex(HIGH)},0`], { ...as, policy: wide });
      const got2 = await probeUnder(probe, [`native:${NR.x32.dup}:${hex(HIGH + 1n)}`], { ...as, policy });
      assert.deepEqual([...got, ...got2], [EXDEV, EXDEV]);
    });

    // socket() takes `int family`: real nspawn (64-bit comparison) lets
    // socket(AF_NETLINK + 2^32, …, NETLINK_AUDIT) through; our audit rule compares the low 32 bits.
    test("nspawn's audit rule with high bits in the family argument", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const EAFNOSUPPORT = `err ${ERRNO.EAFNOSUPPORT}`;
      const specs = [
        `native:${NR.socket}:${hex(HIGH + 16n)},3,9`, // family with high bits
        `native:${NR.socket}:16,3,9`, // the plain call
        `native:${NR.socket}:16,3,${hex(HIGH + 9n)}`, // protocol with high bits
        `native:${NR.socket}:${hex(0xffffffff00000010n)},3,${hex(0x8000000000000009n)}`, // both, other high words
        `native:${NR.socket}:16,3,0`, // NETLINK_ROUTE still works
        `native:${NR.socket}:${hex(HIGH + 16n)},3,0`, // … with high bits too (the kernel reads family 16)
        `native:${NR.socket}:16,3,15`, // NETLINK_KOBJECT_UEVENT
      ];
      const got = await probeUnder(probe, specs, as);
      assert.deepEqual(got, [EAFNOSUPPORT, EAFNOSUPPORT, EAFNOSUPPORT, EAFNOSUPPORT, "ok", "ok", "ok"]);
      // Without a filter the kernel creates the audit socket from every one of those spellings…
      const base = baseline(probe, specs.slice(0, 4), uid);
      assert.ok(base.every((b) => b !== EAFNOSUPPORT), `baseline: ${base.join(" | ")}`);
      // … and libseccomp's 64-bit reading (argumentWidth "u64", what real nspawn installs) lets the
      // high-bits spellings through: the hole this closes.
      const wide = await probeUnder(probe, specs.slice(0, 4), { ...as, policy: { ...nspawnPolicy(), argumentWidth: "u64" } });
      assert.deepEqual(wide, [base[0], EAFNOSUPPORT, base[2], base[3]]);
    });
  });

  describe(`ptrace, as ${who}`, () => {
    test("ptrace of a sibling fails when ptrace is denied (--system-call-filter=~ptrace)", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      await assertFilterDecides(probe, [["ptrace-sibling", EPERM]], { ...as, systemCallFilter: ["~ptrace"] }, uid);
      if (who === "root") {
        // Under the plain default (CAP_SYS_PTRACE retained), it is allowed: the deny list did it.
        assert.deepEqual(await probeUnder(probe, ["ptrace-sibling"], as), ["ok"]);
      }
    });
  });
}

function needBwrap(t: TestContext): boolean {
  const r = spawnSync("bwrap", ["--version"], { encoding: "utf8" });
  if (r.status === 0) return true;
  const why = "bwrap not found (apt-get install bubblewrap)";
  if (REQUIRE_ORACLES) throw new Error(`oracle bwrap is required (SYSCAGE_REQUIRE_ORACLES=1) but missing: ${why}`);
  process.stderr.write(`\n*** SKIPPED: oracle bwrap missing: ${why} ***\n`);
  t.skip(why);
  return false;
}

/** Run the probe under `bwrap --seccomp 3` with the raw program on fd 3. */
function underBwrap(probe: string, program: Uint8Array, specs: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = nodeSpawn("bwrap", ["--bind", "/", "/", "--dev-bind", "/dev", "/dev", "--seccomp", "3", "--", probe, ...specs], {
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
    (child.stdio[3] as NodeJS.WritableStream).end(program);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out.trimEnd().split("\n")) : reject(new Error(`bwrap exited ${code}: ${err}`))));
  });
}

describe("interop with bubblewrap", () => {
  test("the same raw program under `bwrap --seccomp FD` gives the same results as our helper", async (t) => {
    const probe = setup(t);
    if (probe === null || !needRoot(t) || !needBwrap(t)) return;
    for (const policy of [nspawnPolicy(), nspawnPolicy({ systemCallFilter: ["~ptrace @network-io"] })]) {
      const program = encodeProgram(compile(policy).insns);
      const specs = withoutI386(t, [
        `native:${NR.getpid}`,
        `native:${NR.read}:0xffffffff,0,0`,
        `native:${NR.ioperm}${IOPERM_ARGS}`,
        `i386:${NR.i386.ioperm}${IOPERM_ARGS}`,
        `i386:${NR.i386.getpid}`,
        `native:${NR.x32.ioperm}${IOPERM_ARGS}`,
        `native:${NR.x32.getpid}`,
        "native:1000",
        "native:-1",
        `native:${NR.socket}${AUDIT_SOCKET_ARGS}`,
        `native:${NR.socket}:2,2,0`,
        "ptrace-sibling",
        `thread:native:${NR.ioperm}${IOPERM_ARGS}`,
        `exec:native:${NR.ioperm}${IOPERM_ARGS}`,
      ], (s) => s.includes("i386:"));
      // Capabilities left as they are on both sides: only the program differs… and it does not.
      const ours = await probeUnder(probe, specs, { policy, capabilities: "keep" });
      const theirs = await underBwrap(probe, program, specs);
      assert.deepEqual(ours, theirs);
      assert.ok(ours.includes(`err ${ERRNO.EPERM}`), "the comparison includes denied calls");
    }
  });
});
