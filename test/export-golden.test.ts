/**
 * Every output format, byte for byte, on a fixed corpus: the outputs under
 * test/fixtures/export-golden/ were written by the code before the formats
 * moved to src/export/ (issue #20), and the moved code must give the same
 * bytes, warnings and errors.
 *
 * Corpus: the nspawn default (x86_64, x86, x32), Docker's and Podman's
 * default profiles (../shared/data/profiles, imported for an x86_64 host on
 * Linux 6.1), a recorded policy with argument rules, and two hand-written
 * policies with u64 values, every operator and several actions (one under
 * argumentWidth "u64"). Formats: oci, docker, spo, systemd (convert's),
 * syscage's own policy JSON, and the compiled program as C and as JSON.
 *
 * A format that refuses a policy is part of the corpus too: its error code
 * and message are the expected output.
 *
 * SYSCAGE_WRITE_GOLDEN=1 rewrites the fixtures (only when the formats are
 * meant to change; say so in the commit).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getAbi, syscallNumber, type AbiName } from "../src/abi/index.js";
import { compile, type CompiledProgram } from "../src/compile/index.js";
import { SyscageError } from "../src/errors.js";
import { exportPolicy } from "../src/export/formats.js";
import { formatPolicyJson } from "../src/export/policy-json.js";
import { formatC, formatJsonProgram } from "../src/export/program.js";
import { definePolicy, type Policy } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { parseProfile } from "../src/policy/oci.js";
import { buildUnitPolicy, parseUnitFile } from "../src/policy/systemd-unit.js";
import { policyFromRecording, type RecordedCall } from "../src/record/generate.js";
import { sharedDataDir } from "./helpers/oracles.js";

const GOLDEN = fileURLToPath(new URL("./fixtures/export-golden/", import.meta.url));
const WRITE = process.env.SYSCAGE_WRITE_GOLDEN === "1";

function recorded(abi: AbiName, syscall: string, args: readonly bigint[] = [], argMask = 0): RecordedCall {
  const all = [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6);
  return { arch: getAbi(abi).auditArch, nr: syscallNumber(abi, syscall)!, abi, syscall, argMask, args: all };
}

/** The corpus: name → policy (Docker's and Podman's only when the shared data is there). */
function corpus(dataDir: string): [string, Policy][] {
  const profile = (file: string): Policy =>
    parseProfile(readFileSync(join(dataDir, "profiles", file), "utf8"), file, { hostArch: "x86_64", kernel: "6.1" }).policy;
  const calls: RecordedCall[] = [
    recorded("x86_64", "read"),
    recorded("x86_64", "write"),
    recorded("x86_64", "openat"),
    recorded("x86_64", "close"),
    recorded("x86_64", "exit_group"),
    recorded("x86_64", "socket", [1n], 1),
    recorded("x86_64", "socket", [2n], 1),
    recorded("x86_64", "socket", [0xffffffff0000000an], 1),
    recorded("x86_64", "ioctl", [1n, 0x5401n], 2),
    recorded("x86_64", "clone", [0x1200011n], 1),
    recorded("x86_64", "prctl", [38n], 1),
    recorded("x86", "read"),
  ];
  const handRules = [
    { syscall: ["read", "write", "close"], action: "ALLOW", origin: "hand: basics" },
    { syscall: "mmap", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 0xffffffffffffffffn }], origin: "hand: u64 max" },
    { syscall: "mmap", action: "ALLOW", conditions: [{ arg: 2, op: "MASKED_EQ", mask: 0x8000000000000004n, value: 0x8000000000000000n }], origin: "hand: big mask" },
    { syscall: "kill", action: "ERRNO(EACCES)", conditions: [{ arg: 1, op: "GE", value: 32 }], origin: "hand: signals" },
    { syscall: "setuid", action: "ERRNO(EPERM)", conditions: [{ arg: 0, op: "LT", value: 1000 }], origin: "hand: narrow lt" },
    { syscall: "personality", action: "ALLOW", conditions: [{ arg: 0, op: "NE", value: 0xffffffff }], origin: "hand: ne" },
    { syscall: "lseek", action: "ALLOW", conditions: [{ arg: 2, op: "LE", value: 4 }, { arg: 1, op: "GT", value: 9007199254740993n }], origin: "hand: two args" },
    { syscall: "ptrace", action: "KILL_PROCESS", origin: "hand: kill" },
    { syscall: "getpid", action: "LOG", origin: "" },
  ];
  const hand = (argumentWidth: "kernel" | "u64", abis: AbiName[]): Policy =>
    definePolicy({ abis, default: "ERRNO(EPERM)", unknown: "ERRNO(ENOSYS)", badArch: "KILL_PROCESS", flags: ["LOG"], argumentWidth, rules: handRules });
  const unit = (text: string): Policy => buildUnitPolicy(parseUnitFile(`[Service]\n${text}`, "golden.service").properties, { abis: ["x86_64", "x86"] }).policy;
  return [
    ["nspawn-default", nspawnPolicy({ abis: ["x86_64", "x86", "x32"] })],
    ["docker-default", profile("docker-default.json")],
    ["podman-default", profile("podman-default.json")],
    ["recorded-args", policyFromRecording(calls, { abis: ["x86_64", "x86", "x32"], argRules: true }).policy],
    ["hand-kernel", hand("kernel", ["x86_64", "aarch64"])],
    ["hand-kernel-x86", hand("kernel", ["x86_64", "x86"])],
    ["hand-u64", hand("u64", ["x86_64", "aarch64"])],
    ["unit-allow", unit("SystemCallFilter=@system-service\nSystemCallErrorNumber=EPERM\n")],
    ["unit-allow-open", { ...unit("SystemCallFilter=@system-service\nSystemCallErrorNumber=EPERM\n"), routes: "open" }],
    ["unit-deny", unit("SystemCallFilter=~@clock @reboot\nSystemCallErrorNumber=EACCES\n")],
  ];
}

type Output = { text: string; warnings: readonly string[] } | { error: string };

function attempt(f: () => { text: string; warnings: readonly string[] }): Output {
  try {
    return f();
  } catch (err) {
    if (err instanceof SyscageError) return { error: `${err.code}: ${err.message}\n` };
    throw err;
  }
}

/** Every format of one policy: file suffix → output. */
function outputs(name: string, p: Policy): [string, Output][] {
  const out: [string, Output][] = [];
  for (const [fmt, ext] of [["oci", "json"], ["docker", "json"], ["spo", "yaml"], ["systemd", "conf"]] as const) {
    out.push([`${fmt}.${ext}`, attempt(() => exportPolicy(p, fmt, { name }))]);
  }
  out.push(["syscage.json", attempt(() => ({ text: formatPolicyJson(p, `golden corpus: ${name}`), warnings: [] }))]);
  let c: CompiledProgram | undefined;
  const compiled = attempt(() => {
    c = compile(p);
    return { text: "", warnings: [] };
  });
  if (c === undefined) out.push(["program.c", compiled], ["program.json", compiled]);
  else {
    out.push(["program.c", { text: formatC(c, `golden/${name}`), warnings: c.warnings }]);
    out.push(["program.json", { text: formatJsonProgram(c, `golden/${name}`), warnings: [] }]);
  }
  return out;
}

/** The files one output is kept as: the text (or `.error`), and `.warnings` when there are any. */
function files(base: string, o: Output): [string, string][] {
  if ("error" in o) return [[`${base}.error`, o.error]];
  return [[base, o.text], ...(o.warnings.length > 0 ? [[`${base}.warnings`, o.warnings.map((w) => `${w}\n`).join("")] as [string, string]] : [])];
}

test("every output format gives the bytes, warnings and errors it gave before the move to src/export/", (t) => {
  const data = sharedDataDir(t);
  if (data === null) return;
  const expected = new Map<string, string>();
  for (const [name, p] of corpus(data)) {
    for (const [suffix, o] of outputs(name, p)) for (const [f, text] of files(`${name}.${suffix}`, o)) expected.set(f, text);
  }
  if (WRITE) {
    mkdirSync(GOLDEN, { recursive: true });
    for (const f of readdirSync(GOLDEN)) if (!expected.has(f)) throw new Error(`stale fixture ${f}: remove it by hand`);
    for (const [f, text] of expected) writeFileSync(join(GOLDEN, f), text);
    process.stderr.write(`\n*** SYSCAGE_WRITE_GOLDEN=1: wrote ${expected.size} fixtures to ${GOLDEN} ***\n`);
  }
  assert.deepEqual(readdirSync(GOLDEN).sort(), [...expected.keys()].sort(), "the fixture files are exactly the corpus × formats");
  for (const [f, text] of expected) assert.equal(text, readFileSync(join(GOLDEN, f), "utf8"), `${f} differs from its golden copy`);
  // The corpus exercises what the move could break: bigints above 2^53, refusals, warnings, every format written.
  const all = [...expected.entries()];
  assert.ok(all.some(([f, s]) => f.endsWith(".json") && /\b18446744073709551615\b/.test(s)), "a u64 value above 2^53 in some JSON output");
  assert.ok(all.some(([f]) => f.endsWith(".error")), "some format refuses some policy");
  assert.ok(all.some(([f]) => f.endsWith(".warnings")), "some output has warnings");
  for (const suffix of ["oci.json", "docker.json", "spo.yaml", "systemd.conf", "syscage.json", "program.c", "program.json"]) {
    assert.ok(all.some(([f]) => f.endsWith(`.${suffix}`)), `some policy is written as ${suffix}`);
  }
});
