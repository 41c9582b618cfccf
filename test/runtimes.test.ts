/**
 * The real container runtimes as oracles (issue #22): profiles written by
 * `syscage convert --to oci` are given to Debian's runc and crun in a
 * minimal bundle (a static probe as the rootfs), and the calls the probe
 * makes get what syscage says the profile decides. The expected result of
 * each call is grounded in the same runtime: a run without seccomp gives
 * what the kernel answers in that container (an allowed call must give
 * exactly that), a denied call must fail with the profile's errno, a killed
 * one die of SIGSYS.
 *
 * crun 1.8.1 cannot start a container on a host with hybrid cgroup v1+v2
 * mounts; it runs here with --cgroup-manager=disabled in a private mount
 * namespace without the cgroup v2 mount. Where it cannot start a container
 * even without seccomp (runc likewise), its part is skipped with a notice (a
 * host limit, not a missing package).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAbi, syscallNumber } from "../src/abi/index.js";
import { errnoNumber } from "../src/abi/errno.js";
import { decide } from "../src/policy/evaluate.js";
import { parseProfile } from "../src/policy/oci.js";
import type { Policy } from "../src/policy/model.js";
import { cli, ROOT } from "./helpers/cli.js";
import { needOracle, sharedDataDir } from "./helpers/oracles.js";

const DIR = mkdtempSync(join(tmpdir(), "syscage-runtimes-"));

/** Harmless calls (NULL pointers, bad fds, wrong magic numbers), each in a forked child of the probe. */
const CALLS: readonly { name: string; args: readonly bigint[] }[] = [
  { name: "socket", args: [16n, 3n, 9n] }, // AF_NETLINK, SOCK_RAW, NETLINK_AUDIT: nspawn's audit rule
  { name: "socket", args: [(1n << 32n) | 16n, 3n, 9n] }, // the same with high bits the kernel drops
  { name: "socket", args: [16n, 3n, 0n] },
  { name: "socket", args: [2n, 1n, 0n] },
  { name: "socket", args: [40n, 1n, 0n] }, // AF_VSOCK: Docker and Podman deny it
  { name: "mkdir", args: [0n, 0n] },
  { name: "mkdirat", args: [(1n << 64n) - 100n, 0n, 0n] },
  { name: "getpid", args: [] },
  { name: "reboot", args: [0n, 0n, 0n, 0n] },
  { name: "kexec_load", args: [0n, 0n, 0n, 0n] },
  { name: "personality", args: [0xffffffffn] },
  { name: "personality", args: [0x0040000n] }, // ADDR_NO_RANDOMIZE
  { name: "io_uring_setup", args: [0n, 0n] },
  { name: "keyctl", args: [0n, 0n] },
  { name: "add_key", args: [0n, 0n, 0n, 0n, 0n] },
  { name: "bpf", args: [0n, 0n, 0n] },
  { name: "ptrace", args: [(1n << 64n) - 1n, 0n] },
  { name: "unshare", args: [0x10000000n] }, // CLONE_NEWUSER
  { name: "clone3", args: [0n, 0n] },
  { name: "mount", args: [0n, 0n, 0n, 0n, 0n] },
  { name: "setns", args: [(1n << 64n) - 1n, 0n] },
  { name: "ioctl", args: [(1n << 64n) - 1n, 0x5412n] }, // TIOCSTI on a bad fd
];

const spec = (c: { name: string; args: readonly bigint[] }): string => `native:${syscallNumber("x86_64", c.name)}${c.args.length > 0 ? `:${c.args.map((a) => `0x${a.toString(16)}`).join(",")}` : ""}`;

/** What the probe prints for a call under a policy's decision, given what it printed without a filter. */
function expected(policy: Policy, c: { name: string; args: readonly bigint[] }, unfiltered: string): string {
  const d = decide(policy, { arch: getAbi("x86_64").auditArch, nr: syscallNumber("x86_64", c.name)!, args: [...c.args] });
  switch (d.action.kind) {
    case "ALLOW":
    case "LOG":
      return unfiltered;
    case "ERRNO":
      return `err ${typeof d.action.errno === "number" ? d.action.errno : errnoNumber("x86_64", d.action.errno)}`;
    case "KILL_PROCESS":
    case "KILL_THREAD":
    case "TRAP":
      return "signal 31";
    default:
      return `(${d.action.kind})`;
  }
}

interface Runtime {
  readonly name: "runc" | "crun";
  run(bundle: string, id: string): { status: number | null; out: string; err: string };
}

const CGROUP2 = (readFileSync("/proc/self/mounts", "utf8").split("\n").find((l) => l.split(" ")[2] === "cgroup2") ?? "").split(" ")[1];

const RUNTIMES: readonly Runtime[] = [
  {
    name: "runc",
    run: (bundle, id) => {
      const r = spawnSync("runc", ["run", "--bundle", bundle, id], { encoding: "utf8", timeout: 60_000 });
      return { status: r.status, out: r.stdout, err: r.stderr };
    },
  },
  {
    name: "crun",
    run: (bundle, id) => {
      // crun 1.8.1 refuses hybrid cgroup v1+v2 hosts: no cgroups, and the v2 mount hidden in a private mount namespace.
      const hide = CGROUP2 !== undefined && CGROUP2 !== "/sys/fs/cgroup" ? `umount -l ${CGROUP2} && ` : "";
      const r = spawnSync("unshare", ["-m", "sh", "-c", `mount --make-rprivate / && ${hide}exec crun --cgroup-manager=disabled run --bundle "$0" "$1"`, bundle, id], { encoding: "utf8", timeout: 60_000 });
      return { status: r.status, out: r.stdout, err: r.stderr };
    },
  },
];

let uniq = 0;

/** A bundle whose rootfs is the static probe, running `calls`, with `seccomp` (or none). */
function bundle(probe: string, seccomp: unknown): string {
  const dir = join(DIR, `bundle-${++uniq}`);
  mkdirSync(join(dir, "rootfs"), { recursive: true });
  writeFileSync(join(dir, "rootfs", "probe"), readFileSync(probe), { mode: 0o755 });
  const r = spawnSync("runc", ["spec", "--bundle", dir], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { process: { terminal: boolean; args: string[] }; linux: Record<string, unknown> };
  config.process.terminal = false;
  config.process.args = ["/probe", ...CALLS.map(spec)];
  if (seccomp !== undefined) config.linux["seccomp"] = seccomp;
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

test("runc and crun enforce what syscage says of its own OCI exports: the nspawn default (audit rule kept), ~mkdir, Docker's and Podman's defaults round-tripped", (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("needs root (the runtimes create namespaces and mounts)");
    return;
  }
  if (!needOracle(t, "runc", "crun", "cc")) return;
  const data = sharedDataDir(t);
  if (data === null) return;
  const probe = join(DIR, "probe");
  const cc = spawnSync("cc", ["-static", "-O2", "-o", probe, join(ROOT, "test", "helpers", "syscall-probe.c"), "-lpthread"], { encoding: "utf8" });
  assert.equal(cc.status, 0, `building the static probe (libc6-dev's libc.a): ${cc.stderr}`);
  const profiles: [string, string[]][] = [
    ["nspawn default", ["--arch", "x86_64,x86,x32"]],
    ["nspawn ~mkdir", ["--arch", "x86_64,x86,x32", "--system-call-filter=~mkdir"]],
    ["Docker's default", ["--profile", join(data, "profiles", "docker-default.json")]],
    ["Podman's default", ["--profile", join(data, "profiles", "podman-default.json")]],
  ];
  for (const rt of RUNTIMES) {
    const base = rt.run(bundle(probe, undefined), `syscage-base-${process.pid}-${rt.name}`);
    if (base.status !== 0) {
      const why = `${rt.name} cannot start a container on this host even without seccomp (exit ${base.status}): ${base.err.trim().split("\n")[0]}`;
      // A host limit (cgroups, namespaces), not a missing package: said loudly, the other runtime still runs.
      process.stderr.write(`\n*** SKIPPED: ${why} ***\n`);
      t.diagnostic(`skipped: ${why}`);
      continue;
    }
    const unfiltered = base.out.trim().split("\n");
    assert.equal(unfiltered.length, CALLS.length, base.out);
    for (const [label, args] of profiles) {
      const out = join(DIR, `${label.replace(/\W+/g, "-")}.json`);
      const conv = cli("convert", ...args, "--to", "oci", "-o", out);
      assert.equal(conv.code, 0, `${label}: ${conv.err}`);
      const text = readFileSync(out, "utf8");
      const policy = parseProfile(text, out, { hostArch: "x86_64" }).policy;
      const r = rt.run(bundle(probe, JSON.parse(text)), `syscage-${process.pid}-${rt.name}-${++uniq}`);
      assert.equal(r.status, 0, `${rt.name} refused the ${label} export: ${r.err}`);
      const got = r.out.trim().split("\n");
      const problems = CALLS.flatMap((c, i) => {
        const want = expected(policy, c, unfiltered[i]!);
        return got[i] === want ? [] : [`${c.name}(${c.args.map((a) => `0x${a.toString(16)}`).join(", ")}): ${rt.name} gives "${got[i]}", syscage says "${want}" (unfiltered: "${unfiltered[i]}")`];
      });
      assert.deepEqual(problems, [], `${label} under ${rt.name}`);
      t.diagnostic(`${rt.name}, ${label}: ${CALLS.length} calls as syscage says (socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT): ${got[0]})`);
    }
  }
});
