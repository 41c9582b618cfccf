/**
 * spawn()/run() on the real kernel, as root and as an unprivileged user
 * (uid/gid 65534 via spawn's uid/gid options: the helper then has no
 * capabilities, so only no_new_privs and the filter apply).
 */
import assert from "node:assert/strict";
import { spawn as nodeSpawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parseCapability } from "../src/abi/capabilities.js";
import { decodeProgram } from "../src/bpf/codec.js";
import { definePolicy } from "../src/policy/model.js";
import { nspawnCapabilities } from "../src/policy/nspawn.js";
import { defaultHelperPath } from "../src/run/helper.js";
import { LaunchError, encodeLaunch, planLaunch } from "../src/run/launch.js";
import { run, spawn, type RunOptions } from "../src/run/spawn.js";
import { withoutI386 } from "./helpers/host.js";
import {
  AUDIT_SOCKET_ARGS,
  ERRNO,
  IOPERM_ARGS,
  NOBODY,
  NR,
  REBOOT_WRONG_MAGIC,
  baseline,
  hostBounding,
  mask,
  needRoot,
  parseStatus,
  setup,
  unprivilegedHelper,
} from "./helpers/run-probe.js";

const CAP_SYS_BOOT = parseCapability("CAP_SYS_BOOT");

async function probeUnder(probe: string, specs: readonly string[], opts: RunOptions = {}): Promise<string[]> {
  const r = await run(probe, specs, { ...opts, capture: true });
  assert.equal(r.code, 0, `probe exited ${r.code} (${r.signal}): ${r.stderr}`);
  return r.stdout!.trimEnd().split("\n");
}

function marker(): string {
  return join(mkdtempSync(join(tmpdir(), "syscage-run-marker-")), "ran");
}

for (const who of ["root", "unprivileged"] as const) {
  // A getter: the helper is copied after setup() has built it, when a test spreads `as`.
  const as: RunOptions = who === "root" ? {} : { uid: NOBODY, gid: NOBODY, get helper() { return unprivilegedHelper(); } };
  const uid = who === "root" ? undefined : NOBODY;

  describe(`run() under the nspawn default, as ${who}`, () => {
    test("allowed calls work; a denied call gets EPERM; an unknown number ENOSYS", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const specs = [`native:${NR.getpid}`, `native:${NR.read}:0xffffffff,0,0`, `native:${NR.ioperm}${IOPERM_ARGS}`, "native:1000"];
      const base = baseline(probe, specs, uid);
      assert.notEqual(base[2], `err ${ERRNO.EPERM}`, "baseline: ioperm(0,0,0) is not EPERM without a filter");
      assert.deepEqual(await probeUnder(probe, specs, as), ["ok", `err ${ERRNO.EBADF}`, `err ${ERRNO.EPERM}`, `err ${ERRNO.ENOSYS}`]);
    });

    test("socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT) gets EAFNOSUPPORT", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const spec = `native:${NR.socket}${AUDIT_SOCKET_ARGS}`;
      assert.notEqual(baseline(probe, [spec], uid)[0], `err ${ERRNO.EAFNOSUPPORT}`);
      // A netlink route socket is still fine.
      assert.deepEqual(await probeUnder(probe, [spec, `native:${NR.socket}:16,3,0`], as), [`err ${ERRNO.EAFNOSUPPORT}`, "ok"]);
    });

    test("/proc/self/status: NoNewPrivs 1, Seccomp 2, the expected capability sets", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const s = parseStatus((await probeUnder(probe, ["status"], as))[0]!);
      assert.equal(s.noNewPrivs, "1");
      assert.equal(s.seccomp, "2");
      assert.equal(s.capAmb, 0n);
      if (who === "root") {
        const want = mask(nspawnCapabilities({})) & hostBounding();
        assert.equal(s.capBnd.toString(16), want.toString(16));
        assert.equal(s.capEff.toString(16), want.toString(16));
        assert.equal(s.capPrm.toString(16), want.toString(16));
      } else {
        // Unprivileged: the bounding set cannot be changed (and need not be: nothing can be gained).
        assert.equal(s.capBnd, hostBounding());
        assert.equal(s.capEff, 0n);
        assert.equal(s.capPrm, 0n);
      }
    });

    test("--drop-capability=CAP_SYS_BOOT: reboot() with a wrong magic gets EPERM; kept: EINVAL as root", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const calls = withoutI386(t, [`native:${NR.reboot}${REBOOT_WRONG_MAGIC}`, `i386:${NR.i386.reboot}${REBOOT_WRONG_MAGIC}`], (s) => s.startsWith("i386:"));
      const specs = [...calls, "status"];
      const dropped = await probeUnder(probe, specs, { ...as, dropCapability: ["CAP_SYS_BOOT"] });
      assert.deepEqual(dropped.slice(0, calls.length), calls.map(() => `err ${ERRNO.EPERM}`));
      const bootBit = parseStatus(dropped[calls.length]!).capBnd & (1n << BigInt(CAP_SYS_BOOT));
      if (who === "root") assert.equal(bootBit, 0n, "CAP_SYS_BOOT left the bounding set");
      else assert.notEqual(bootBit, 0n, "unprivileged: the bounding set is left as it is");
      const kept = await probeUnder(probe, specs.slice(0, 1), as);
      // Root keeps the capability: the kernel checks the magic and says EINVAL. Unprivileged: the
      // filter allows reboot (the capability is in the retained set) and the kernel says EPERM.
      assert.deepEqual(kept, [who === "root" ? `err ${ERRNO.EINVAL}` : `err ${ERRNO.EPERM}`]);
    });

    test("threads and grandchildren are filtered too", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const denied = `native:${NR.ioperm}${IOPERM_ARGS}`;
      const out = await probeUnder(probe, [`thread:${denied}`, `exec:${denied}`, "exec:status", `exec:thread:${denied}`], as);
      assert.deepEqual(out.slice(0, 2), [`err ${ERRNO.EPERM}`, `err ${ERRNO.EPERM}`]);
      const s = parseStatus(out[2]!);
      assert.equal(s.noNewPrivs, "1");
      assert.equal(s.seccomp, "2");
      assert.equal(out[3], `err ${ERRNO.EPERM}`);
    });
  });

  describe(`run() with an explicit policy, as ${who}`, () => {
    test("a denied call gets the policy's errno; an unknown number the policy's unknown action", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const policy = definePolicy({
        default: "ALLOW",
        unknown: "ERRNO(EXDEV)",
        rules: [{ syscall: "getppid", action: "ERRNO(EXDEV)" }],
      });
      const out = await probeUnder(probe, [`native:${NR.getppid}`, `native:${NR.getpid}`, "native:1000"], { ...as, policy });
      assert.deepEqual(out, [`err ${ERRNO.EXDEV}`, "ok", `err ${ERRNO.EXDEV}`]);
    });

    test("an explicit policy leaves capabilities as they are unless asked", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t) || who !== "root") return;
      const policy = definePolicy({ default: "ALLOW" });
      const keep = parseStatus((await probeUnder(probe, ["status"], { policy }))[0]!);
      assert.equal(keep.capBnd, hostBounding());
      const some = parseStatus((await probeUnder(probe, ["status"], { policy, capabilities: ["CAP_KILL", "CAP_CHOWN"] }))[0]!);
      assert.equal(some.capBnd, mask([parseCapability("CAP_KILL"), parseCapability("CAP_CHOWN")]) & hostBounding());
    });
  });

  describe(`fail closed, as ${who}`, () => {
    test("a flag the kernel refuses: LaunchError 125 and the command never runs", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      const m = marker();
      // WAIT_KILLABLE_RECV without NEW_LISTENER, and an undefined flag bit.
      for (const flags of [["WAIT_KILLABLE_RECV"] as const, 1 << 20]) {
        await assert.rejects(run("touch", [m], { ...as, flags }), (e: unknown) => {
          assert.ok(e instanceof LaunchError);
          assert.equal(e.exitStatus, 125);
          assert.match(e.message, /cannot load seccomp filter 1 of 1 .*Invalid argument/);
          return true;
        });
        assert.equal(existsSync(m), false);
      }
    });

    test("not found → 127, cannot execute → 126", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      await assert.rejects(run("/nonexistent-dir/syscage-no-such-command", [], as), (e: unknown) => e instanceof LaunchError && e.exitStatus === 127 && /No such file/.test(e.message));
      const dir = mkdtempSync(join(tmpdir(), "syscage-noexec-"));
      chmodSync(dir, 0o755);
      const file = join(dir, "script");
      writeFileSync(file, "#!/bin/sh\ntouch /tmp/should-not-exist\n", { mode: 0o644 });
      await assert.rejects(run(file, [], as), (e: unknown) => e instanceof LaunchError && e.exitStatus === 126 && /Permission denied/.test(e.message));
    });

    test("--private-network", async (t) => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return;
      if (who === "unprivileged") {
        await assert.rejects(run("true", [], { ...as, privateNetwork: true }), (e: unknown) => e instanceof LaunchError && e.exitStatus === 125 && /needs root/.test(e.message));
        return;
      }
      const r = await run("cat", ["/proc/self/net/dev"], { privateNetwork: true, capture: true });
      assert.equal(r.code, 0);
      const ifaces = r.stdout!.split("\n").slice(2).filter((l) => l.trim() !== "").map((l) => l.split(":")[0]!.trim());
      assert.deepEqual(ifaces, ["lo"]);
      const s = parseStatus((await probeUnder(probe, ["status"], { privateNetwork: true }))[0]!);
      assert.notEqual(s.capBnd & (1n << BigInt(parseCapability("CAP_NET_ADMIN"))), 0n, "--private-network retains CAP_NET_ADMIN");
      // lo is up: a loopback UDP socket can send to itself.
      const up = await run(process.execPath, ["-e", `const d=require("dgram").createSocket("udp4");d.on("message",()=>{console.log("got");process.exit(0)});d.bind(0,"127.0.0.1",()=>d.send("x",d.address().port,"127.0.0.1"));setTimeout(()=>process.exit(3),5000)`], { privateNetwork: true, capture: true });
      assert.equal(up.stdout, "got\n");
    });
  });
}

describe("spawn()", () => {
  test("returns the command's own ChildProcess with stdio and exit status", async (t) => {
    if (setup(t) === null) return;
    const child = spawn("sh", ["-c", "read x; echo \"got $x\"; echo err >&2; exit 3"]);
    assert.equal(typeof child.pid, "number");
    child.stdin!.end("line\n");
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
    const code = await new Promise<number | null>((res) => child.on("close", (c: number | null) => res(c)));
    assert.equal(code, 3);
    assert.equal(out, "got line\n");
  });

  test("emits a LaunchError for a command that is not found", async (t) => {
    if (setup(t) === null) return;
    const child = spawn("syscage-no-such-command");
    const err = await new Promise<unknown>((res) => child.on("error", res));
    assert.ok(err instanceof LaunchError && err.exitStatus === 127);
  });

  test("throws before spawning anything when the sandbox cannot be built", (t) => {
    if (setup(t) === null) return;
    assert.throws(() => spawn("true", [], { systemCallFilter: ["~nosuchcall"] }), /unknown syscall "nosuchcall"/);
    assert.throws(() => spawn("true", [], { addFilters: [new Uint8Array(13)] }), /not a multiple of 8/);
    assert.throws(() => spawn("true", [], { policy: definePolicy({}), capability: ["CAP_SYS_TIME"] }), /either a policy or nspawn options/);
  });

  test("run() captures output and feeds input", async (t) => {
    if (setup(t) === null) return;
    const r = await run("cat", [], { input: "hello\n", capture: true });
    assert.deepEqual(r, { code: 0, signal: null, stdout: "hello\n", stderr: "" });
  });
});

describe("the native helper itself fails closed", () => {
  async function helperWith(description: Uint8Array, m: string): Promise<{ code: number | null; report: string }> {
    const child = nodeSpawn(defaultHelperPath(), ["3", "4", "--", "touch", m], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
    let report = "";
    (child.stdio[4] as NodeJS.ReadableStream).setEncoding("utf8");
    (child.stdio[4] as NodeJS.ReadableStream).on("data", (c: string) => (report += c));
    (child.stdio[3] as NodeJS.WritableStream).on("error", () => undefined);
    (child.stdio[3] as NodeJS.WritableStream).end(description);
    const code = await new Promise<number | null>((res) => child.on("close", (c) => res(c)));
    return { code, report };
  }

  test("a program the kernel refuses, a truncated description, a bad magic", async (t) => {
    if (setup(t) === null) return;
    const plan = planLaunch({});
    // Bypass the TypeScript verifier: an invalid opcode goes straight to the kernel.
    const bad = { ...plan, programs: [{ insns: decodeProgram(new Uint8Array([0xff, 0xff, 0, 0, 0, 0, 0, 0])), source: "bad" }, ...plan.programs] };
    const cases: [string, Uint8Array, RegExp][] = [
      // The handshake once the description is read, then the failure.
      ["kernel refusal", encodeLaunch(bad), /^0 syscage-exec\n125 cannot load seccomp filter 1 of 2 .*Invalid argument/],
      ["truncated", encodeLaunch(plan).slice(0, 100), /^125 launch description is truncated/],
      ["bad magic", new Uint8Array(64), /^125 launch description has a bad magic/],
      ["empty", new Uint8Array(0), /^125 launch description is truncated/],
    ];
    for (const [what, description, want] of cases) {
      const m = marker();
      const r = await helperWith(description, m);
      assert.equal(r.code, 125, what);
      assert.match(r.report, want, what);
      assert.equal(existsSync(m), false, `${what}: the command must not run`);
    }
    // And the same description intact does run it.
    const m = marker();
    const ok = await helperWith(encodeLaunch(plan), m);
    assert.equal(ok.code, 0);
    assert.equal(ok.report, "0 syscage-exec\n");
    assert.equal(existsSync(m), true);
  });

  test("a helper that is not the helper (an empty file runs as an empty shell script) never counts as a launch: exit 125", async (t) => {
    if (setup(t) === null) return;
    const dir = mkdtempSync(join(tmpdir(), "syscage-fake-helper-"));
    const fake = join(dir, "syscage-exec");
    writeFileSync(fake, "");
    chmodSync(fake, 0o755);
    const m = marker();
    await assert.rejects(run("touch", [m], { helper: fake }), (e: unknown) => e instanceof LaunchError && e.exitStatus === 125 && /handshake/.test(e.message));
    assert.equal(existsSync(m), false);
  });
});
