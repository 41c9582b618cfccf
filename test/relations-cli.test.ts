/**
 * `syscage check A --within B` and `syscage merge --intersect/--union`
 * through the CLI: exit codes (check 0/1/2), counterexamples with both
 * explanations, --json and --all, and merged profiles written with -o and
 * --to that `check` then finds within (or above) their sources.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { encodeProgram } from "../src/bpf/index.js";
import { compile } from "../src/compile/index.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { assertOneLineError, cli } from "./helpers/cli.js";

const DOCKER = "/work/shared/data/profiles/docker-default.json";
const ARCH = ["--arch", "x86_64,x86,x32"];

function troubleLine(r: { code: number | null; out: string; err: string }, ...fragments: string[]): void {
  assert.equal(r.code, 2, `exit 2 (trouble); stderr: ${r.err}`);
  const lines = r.err.split("\n").filter((l) => l !== "");
  assert.ok(lines.length >= 1 && /^(syscage: |error: )/.test(lines[0]!), r.err);
  assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace");
  for (const f of fragments) assert.ok(r.err.includes(f), `stderr lacks ${f}: ${r.err}`);
}

test("check: nspawn + ~mkdir is within the nspawn default (exit 0); the reverse is not (exit 1), with mkdir on each ABI and both explanations", () => {
  const ok = cli("check", "--a-system-call-filter=~mkdir", "--within", "nspawn", ...ARCH);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /^within: .*exhaustive/m);
  const no = cli("check", "nspawn", "--within", "nspawn", "--b-system-call-filter=~mkdir", ...ARCH);
  assert.equal(no.code, 1, no.err);
  assert.match(no.out, /not within: A is less strict than B on 3 syscall\(s\)/);
  for (const abi of ["x86_64", "x86", "x32"]) assert.match(no.out, new RegExp(`^  ${abi} mkdir\\(\\): A ALLOW, B ERRNO\\(EPERM\\)$`, "m"));
  assert.match(no.out, /A: mkdir\(0\) → ALLOW: nspawn allow list: @file-system/);
  assert.match(no.out, /B: mkdir\(0\) → ERRNO\(EPERM\): removed by --system-call-filter=~mkdir/);
});

test("check: Docker's default is not within the nspawn default; --json gives every field, --all every syscall; a .bpf side", () => {
  const j = cli("check", DOCKER, "--within", "nspawn", ...ARCH, "--json");
  assert.equal(j.code, 1, j.err);
  const r = JSON.parse(j.out) as { within: boolean; total: number; method: string; differences: { abi: string; syscall: string; data: { args: number[] }; a: { action: string; why: string }; b: { action: string; why: string } }[] };
  assert.equal(r.within, false);
  assert.equal(r.method, "exhaustive");
  assert.equal(r.differences.length, 10);
  const sock = r.differences.find((d) => d.syscall === "socket" && d.abi === "x86_64");
  assert.ok(sock !== undefined, "socket(AF_NETLINK, …, NETLINK_AUDIT) is among the first");
  assert.deepEqual(sock.data.args.slice(0, 3), [16, 0, 9]);
  assert.match(sock.b.why, /nspawn audit rule/);
  const all = cli("check", DOCKER, "--within", "nspawn", ...ARCH, "--all");
  assert.equal(all.code, 1);
  const listed = all.out.split("\n").filter((l) => /^ {2}\S+ \S+\(.*\): A /.test(l));
  assert.equal(listed.length, r.total);
  assert.doesNotMatch(all.out, /more \(--all/);
  const few = cli("check", DOCKER, "--within", "nspawn", ...ARCH);
  assert.match(few.out, new RegExp(`… ${r.total - 10} more \\(--all lists every one\\)`));
  // A raw program against the policy it was compiled from: within both ways.
  const dir = mkdtempSync(join(tmpdir(), "syscage-check-"));
  try {
    const bpf = join(dir, "nspawn.bpf");
    writeFileSync(bpf, encodeProgram(compile(nspawnPolicy({ abis: ["x86_64", "x86", "x32"] })).insns, "little"));
    assert.equal(cli("check", bpf, "--within", "nspawn", ...ARCH).code, 0);
    assert.equal(cli("check", "nspawn", "--within", bpf, ...ARCH).code, 0);
    const r2 = cli("check", bpf, "--within", "nspawn", "--b-system-call-filter=~mkdir", ...ARCH);
    assert.equal(r2.code, 1);
    assert.match(r2.out, /A: the program returns ALLOW/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("check: trouble is exit 2 with one clear line (missing file, missing --within, an option that cannot apply)", () => {
  troubleLine(cli("check", "/nonexistent/p.json", "--within", "nspawn"), "/nonexistent/p.json");
  troubleLine(cli("check", "nspawn"), "--within");
  troubleLine(cli("check", DOCKER, "--within", "nspawn", "--a-system-call-filter=~mkdir"), "side A", "--a-system-call-filter");
  troubleLine(cli("check", "--within", "nspawn"), "A");
});

test("merge --intersect docker nspawn --to oci -o: proven, schema-valid, and check finds it within both (and neither within it)", () => {
  const dir = mkdtempSync(join(tmpdir(), "syscage-merge-"));
  try {
    const out = join(dir, "both.json");
    const m = cli("merge", "--intersect", DOCKER, "nspawn", ...ARCH, "--to", "oci", "-o", out);
    assert.equal(m.code, 0, m.err);
    assert.equal(m.out, "");
    assert.match(m.err, /intersect of .*docker-default\.json, nspawn default .*: \d+ rules; proven within each source and exact \(exhaustive/);
    const doc = JSON.parse(readFileSync(out, "utf8")) as unknown;
    const schemaDir = fileURLToPath(new URL("./fixtures/oci-runtime-spec/", import.meta.url));
    const ajv = new Ajv({ strict: false, allErrors: true });
    for (const f of readdirSync(schemaDir).filter((x) => x.endsWith(".json"))) {
      const s = JSON.parse(readFileSync(join(schemaDir, f), "utf8")) as Record<string, unknown>;
      delete s["$schema"];
      ajv.addSchema(s, f);
    }
    const validate = ajv.getSchema("config-schema.json")!;
    const config = { ociVersion: "1.0.2", root: { path: "rootfs" }, process: { cwd: "/", args: ["sh"], user: { uid: 0, gid: 0 } }, linux: { seccomp: doc } };
    assert.equal(validate(config), true, JSON.stringify(validate.errors?.slice(0, 3)));
    assert.equal(cli("check", out, "--within", DOCKER, ...ARCH).code, 0);
    assert.equal(cli("check", out, "--within", "nspawn", ...ARCH).code, 0);
    assert.equal(cli("check", DOCKER, "--within", out, ...ARCH).code, 1);
    assert.equal(cli("check", "nspawn", "--within", out, ...ARCH).code, 1);
    // The default format: syscage's JSON policy, origins as comments; union: both sources within it.
    const u = join(dir, "either.json");
    const mu = cli("merge", "--union", DOCKER, "nspawn", ...ARCH, "-o", u);
    assert.equal(mu.code, 0, mu.err);
    const text = readFileSync(u, "utf8");
    assert.match(text, /"comment": "[^"]*docker-default\.json syscalls\[\d+\]/);
    assert.match(text, /"routes": "open"/);
    assert.equal(cli("check", DOCKER, "--within", u, ...ARCH).code, 0);
    assert.equal(cli("check", "nspawn", "--within", u, ...ARCH).code, 0);
    assert.equal(cli("check", u, "--within", DOCKER, ...ARCH).code, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("merge: usage errors are one clear line (exit 1)", () => {
  assertOneLineError(cli("merge", "--intersect", DOCKER), "at least two sources");
  assertOneLineError(cli("merge", DOCKER, "nspawn"), "--intersect", "--union");
  assertOneLineError(cli("merge", "--intersect", "--union", DOCKER, "nspawn"), "exactly one");
  assertOneLineError(cli("merge", "--intersect", DOCKER, "x.bpf"), "raw program");
  assertOneLineError(cli("merge", "--intersect", DOCKER, "nspawn", "--to", "ocj"), "unknown format", "oci");
  const bad = cli("merge", "--union", DOCKER, "nspawn", "--b-arch", "x86");
  assert.equal(bad.code, 1);
  assert.match(bad.err, /unknown option '--b-arch'/);
});
