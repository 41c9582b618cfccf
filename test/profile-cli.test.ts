/**
 * The CLI side of container profiles: `compile --profile` on the real Docker
 * and Podman defaults, `convert --to oci|docker|spo|systemd`, `--kubernetes`,
 * the condition options, and broken profiles (one line on stderr, exit 1).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { sharedDataDir } from "./helpers/oracles.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MAIN = join(ROOT, "src/cli/main.ts");

function syscage(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: ROOT, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("compile --profile works on Docker's and Podman's default profiles, for every host the options name", (t) => {
  const dir = sharedDataDir(t);
  if (dir === null) return;
  for (const f of ["docker-default.json", "podman-default.json"]) {
    for (const host of ["amd64", "arm64", "s390x"]) {
      const r = syscage(["compile", "--profile", join(dir, "profiles", f), "--host-arch", host, "--kernel", "5.10", "--capability", "CAP_SYS_ADMIN"]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /instructions/);
      assert.doesNotMatch(r.stderr, /error/);
    }
  }
});

test("convert --to oci of the nspawn default, and back through --profile: identical", () => {
  const tmp = mkdtempSync(join(tmpdir(), "syscage-profile-"));
  const a = syscage(["convert", "--to", "oci", "--arch", "x86_64,x86,x32", "-o", join(tmp, "n.json")]);
  assert.equal(a.status, 0, a.stderr);
  const b = syscage(["convert", "--profile", join(tmp, "n.json"), "--host-arch", "x86_64", "--to", "oci"]);
  assert.equal(b.status, 0, b.stderr);
  assert.equal(b.stdout, readFileSync(join(tmp, "n.json"), "utf8"));
});

test("convert --to spo --kubernetes prints the SeccompProfile and the pod snippet; docker has archMap", () => {
  const tmp = mkdtempSync(join(tmpdir(), "syscage-profile-"));
  const r = syscage(["convert", "--to", "spo", "--name", "web", "--kubernetes", "-o", join(tmp, "web.yaml")]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(readFileSync(join(tmp, "web.yaml"), "utf8"), /^apiVersion: security-profiles-operator\.x-k8s\.io\/v1\nkind: SeccompProfile\nmetadata:\n  name: web\n/);
  assert.match(r.stdout, /\/var\/lib\/kubelet\/seccomp\/operator\/web\.json/);
  assert.match(r.stdout, /localhostProfile: operator\/web\.json/);
  const d = syscage(["convert", "--to", "docker", "--arch", "aarch64,arm"]);
  assert.equal(d.status, 0, d.stderr);
  assert.deepEqual((JSON.parse(d.stdout) as { archMap: unknown }).archMap, [{ architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] }]);
});

test("errors: one line on stderr, exit 1 (bad profile, systemd cannot, option misuse)", () => {
  const tmp = mkdtempSync(join(tmpdir(), "syscage-profile-"));
  const bad = join(tmp, "bad.json");
  writeFileSync(bad, JSON.stringify({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, op: "SCMP_CMP_EQUAL" }] }] }, null, 2));
  const cases: [string[], RegExp][] = [
    [["compile", "--profile", bad], /^syscage: .*bad\.json:\d+: syscalls\[0\]\.args\[0\]\.op: "SCMP_CMP_EQUAL" is not allowed/],
    [["convert", "--to", "systemd"], /^syscage: cannot export to systemd: rule #1 \(socket/],
    [["convert", "--to", "yaml"], /^syscage: --to: unknown format "yaml"/],
    [["compile", "--kernel", "5.4"], /^syscage: --kernel only apply to a container profile; add --profile FILE/],
    [["compile", "--profile", bad, "--policy", bad], /^syscage: --profile cannot be combined with --policy/],
  ];
  for (const [args, re] of cases) {
    const r = syscage(args);
    assert.equal(r.status, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

test("warnings go to stderr as 'syscage: warning:' and do not fail the command", () => {
  const tmp = mkdtempSync(join(tmpdir(), "syscage-profile-"));
  const f = join(tmp, "w.json");
  writeFileSync(f, JSON.stringify({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read", "not_a_syscall"], action: "SCMP_ACT_ALLOW", comentt: "x" }] }, null, 2));
  const r = syscage(["convert", "--profile", f, "--host-arch", "x86_64", "--to", "oci"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^syscage: warning: .*unknown field "comentt". Did you mean "comment"/m);
  assert.match(r.stderr, /^syscage: warning: .*unknown syscall "not_a_syscall"/m);
});
