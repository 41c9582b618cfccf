/**
 * src/export/ beyond the golden outputs (test/export-golden.test.ts): the one
 * JSON writer (exact bigints, checked against an independent parser; never
 * confused by strings that look like its placeholder), `convert --to
 * syscage` (read back by --policy to the very same program, refused when the
 * text is tampered with), and the public API (`syscage/export`, profile
 * import in `syscage/policy`, `checkExport` in `syscage/analyze`) as the
 * built package resolves it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { parse as parseYaml } from "yaml";
import { checkExport } from "../src/analyze/roundtrip.js";
import { SyscageError } from "../src/errors.js";
import { exportPolicy } from "../src/export/formats.js";
import { toJson } from "../src/export/json.js";
import { formatPolicyJson } from "../src/export/policy-json.js";
import { parsePolicyJson } from "../src/policy/json.js";
import { definePolicy } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { withRoutes } from "../src/policy/routes.js";
import { ensureBuilt } from "./helpers/cli.js";
import { sharedDataDir } from "./helpers/oracles.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MAIN = join(ROOT, "src/cli/main.ts");

function syscage(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: ROOT, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function syscageBytes(args: string[]): Buffer {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: ROOT });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

const MARKER = "@@syscage-bigint@@";

test("toJson writes bigints as exact literals and leaves strings and keys that look like its placeholder alone", () => {
  assert.equal(toJson({ a: 18446744073709551615n, b: -9007199254740993n, c: [1n, 2] }), '{\n  "a": 18446744073709551615,\n  "b": -9007199254740993,\n  "c": [\n    1,\n    2\n  ]\n}');
  assert.equal(toJson([1n], 0), "[1]");
  const tricky = { [`${MARKER}1`]: `${MARKER}2`, s: `${MARKER}3`, t: "@@syscage-bigint-1@@4", n: 5n };
  const text = toJson(tricky);
  assert.equal(text, JSON.stringify({ ...tricky, n: "@N@" }, null, 2).replace('"@N@"', "5"));
  assert.deepEqual(parseYaml(text, { intAsBigInt: true }), tricky);
});

/** Values of JSON with integers as bigints (and strings built to collide with the placeholder). */
const bigJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }),
    fc.boolean(),
    fc.constant(null),
    fc.oneof(fc.string({ unit: fc.constantFrom("a", "@", '"', "\\", "\n", "\u0000", "é", "1", "-") }), fc.constantFrom(MARKER, `${MARKER}7`, `"${MARKER}8"`, "@@syscage-bigint-1@@9")),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 5 }).filter((k) => k !== "__proto__"), fc.constantFrom(MARKER, `${MARKER}1`)), tie("value"), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

test("toJson ≡ an independent parser (yaml with intAsBigInt) on random values with u64 and larger bigints", () => {
  fc.assert(
    fc.property(bigJson, (v) => {
      assert.deepEqual(parseYaml(toJson(v), { intAsBigInt: true }), v);
    }),
    { numRuns: 500 },
  );
});

test("toJson without bigints is JSON.stringify, byte for byte, at any indent", () => {
  const withMarkers = fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom(MARKER, "k", `${MARKER}3`), fc.constantFrom(`${MARKER}12`, MARKER, "x")));
  fc.assert(
    fc.property(withMarkers, fc.constantFrom(0, 2, 4), (v, indent) => {
      assert.equal(toJson(v, indent), JSON.stringify(v, null, indent));
    }),
    { numRuns: 300 },
  );
});

test("exportPolicy(…, 'syscage') is the policy file; read back it decides as the policy, routes, network and width included", () => {
  const p = definePolicy({
    abis: ["x86_64", "x86"],
    default: "ERRNO(EPERM)",
    unknown: "ERRNO(ENOSYS)",
    badArch: "KILL_PROCESS",
    routes: "open",
    network: false,
    argumentWidth: "u64",
    rules: [
      { syscall: ["read", "write", "socket"], action: "ALLOW" },
      { syscall: "mmap", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 0xffffffffffffffffn }] },
    ],
  });
  const r = exportPolicy(p, "syscage", { comment: "c" });
  assert.equal(r.text, formatPolicyJson(p, "c"));
  assert.deepEqual(r.warnings, []);
  assert.match(r.text, /"routes": "open"/);
  assert.match(r.text, /"network": false/);
  assert.match(r.text, /"argumentWidth": "u64"/);
  assert.match(r.text, /"value": 18446744073709551615\b/);
  assert.equal(checkExport(p, "syscage", r.text).equal, true);
  // Written from the policy as given: the closing rules of closed routes are not spelled out (the reader adds them again).
  const closed = nspawnPolicy({ abis: ["x86_64"] });
  const text = exportPolicy(closed, "syscage").text;
  assert.ok(withRoutes(closed).rules.length > closed.rules.length, "closed routes add rules to the nspawn default");
  assert.equal(parsePolicyJson(text, "back.json").rules.length, closed.rules.length);
  assert.equal(checkExport(closed, "syscage", text).equal, true);
});

test("checkExport refuses a syscage text that decides otherwise, and with approximate accepts only a stricter one", () => {
  const p = definePolicy({ abis: ["x86_64"], default: "ERRNO(EPERM)", unknown: "ERRNO(ENOSYS)", rules: [{ syscall: ["read", "write"], action: "ALLOW" }, { syscall: "getpid", action: "ALLOW" }] });
  const text = exportPolicy(p, "syscage").text;
  const stricter = text.replace('"syscall": "getpid",\n      "action": "ALLOW"', '"syscall": "getpid",\n      "action": "ERRNO(EACCES)"');
  assert.notEqual(stricter, text);
  assert.throws(() => checkExport(p, "syscage", stricter), (e: unknown) => e instanceof SyscageError && e.code === "EXPORT_DIFFERS" && /x86_64 getpid/.test(e.message));
  const approx = checkExport(p, "syscage", stricter, { approximate: true });
  assert.equal(approx.equal, false);
  assert.deepEqual(approx.stricter.map((x) => x.name), ["getpid"]);
  const looser = text.replace('"default": "ERRNO(EPERM)"', '"default": "ALLOW"');
  assert.throws(() => checkExport(p, "syscage", looser, { approximate: true }), (e: unknown) => e instanceof SyscageError && e.code === "EXPORT_DIFFERS" && /even approximately/.test(e.message));
});

test("convert --to syscage: --policy reads the file back to the same program, byte for byte (nspawn default, Docker's, Podman's)", (t) => {
  const tmp = mkdtempSync(join(tmpdir(), "syscage-export-"));
  const data = sharedDataDir(t);
  const sources: string[][] = [["--arch", "x86_64,x86,x32"], ["--arch", "aarch64,arm", "--private-network"]];
  if (data !== null) {
    for (const f of ["docker-default.json", "podman-default.json"]) sources.push(["--profile", join(data, "profiles", f), "--host-arch", "x86_64", "--kernel", "6.1"]);
  }
  sources.forEach((src, i) => {
    const out = join(tmp, `p${i}.json`);
    const c = syscage(["convert", ...src, "--to", "syscage", "-o", out]);
    assert.equal(c.status, 0, c.stderr);
    const text = readFileSync(out, "utf8");
    assert.match(text, /^\{\n {2}"comment": "converted by syscage convert from /);
    const direct = syscageBytes(["compile", ...src, "--format", "raw"]);
    const back = syscageBytes(["compile", "--policy", out, "--format", "raw"]);
    assert.ok(direct.length > 0);
    assert.ok(back.equals(direct), `${src.join(" ")}: the program compiled from the syscage export differs from the source's`);
    // Without -o the text goes to stdout, the same bytes.
    assert.equal(syscage(["convert", ...src, "--to", "syscage"]).stdout, text);
  });
});

test("convert: --to syscage is in --help and in the format list, and refuses --kubernetes", () => {
  const help = syscage(["convert", "--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--to <format>\s+output format: syscage \| oci \| docker \| spo \|\s+systemd\n/);
  assert.match(help.stdout, /\n {2}syscage {2}syscage's own policy JSON/);
  const k = syscage(["convert", "--to", "syscage", "--kubernetes"]);
  assert.equal(k.status, 1);
  assert.equal(k.stderr, "syscage: --kubernetes applies to the oci, docker and spo formats, not syscage\n");
  const bad = syscage(["convert", "--to", "syscag"]);
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, 'syscage: --to: unknown format "syscag". Did you mean "syscage"? Formats: syscage, oci, docker, spo, systemd\n');
});

test("the public API as the built package resolves it: syscage/export, profile import in syscage/policy, checkExport in syscage/analyze", async () => {
  ensureBuilt();
  const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, { types: string; default: string }> };
  assert.deepEqual(manifest.exports["./export"], { types: "./dist/export/index.d.ts", default: "./dist/export/index.js" });
  for (const [k, e] of Object.entries(manifest.exports)) {
    assert.ok(existsSync(join(ROOT, e.types)) && existsSync(join(ROOT, e.default)), `package.json exports ${k}: ${e.default} and ${e.types} are built`);
  }
  // The package's own name resolves through its "exports" (self-reference), as it does for a user.
  const load = async (specifier: string): Promise<Record<string, unknown>> => (await import(specifier)) as Record<string, unknown>;
  const ex = await load("syscage/export");
  for (const n of ["exportPolicy", "EXPORT_FORMATS", "policyToOci", "policyToSpo", "policyToSystemd", "formatPolicyJson", "kubernetesSnippet", "formatProgram", "formatC", "formatJsonProgram", "formatDisasm", "opcodeName", "toJson"]) {
    assert.ok(n in ex, `syscage/export exports ${n}`);
  }
  const pol = await load("syscage/policy");
  for (const n of ["parseProfile", "readProfileFile", "DOCKER_DEFAULT_CAPABILITIES", "definePolicy", "nspawnPolicy"]) assert.ok(n in pol, `syscage/policy exports ${n}`);
  const an = await load("syscage/analyze");
  assert.ok("checkExport" in an && "readBackExport" in an, "syscage/analyze exports checkExport and readBackExport");
  for (const n of ["auditPolicy", "auditPrograms", "AUDIT_CATALOGUE", "exposureScore"]) assert.ok(n in an, `syscage/analyze exports ${n}`);
  const root = await load("syscage");
  assert.ok("exportPolicy" in root && "formatPolicyJson" in root);
  // And they work: a profile imported and exported again through the built modules.
  const parseProfile = pol.parseProfile as (text: string, source: string, c: { hostArch: string; kernel: string }) => { policy: unknown };
  const exportPolicyBuilt = ex.exportPolicy as (p: unknown, f: string) => { text: string };
  const profile = '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}';
  const back = JSON.parse(exportPolicyBuilt(parseProfile(profile, "p.json", { hostArch: "x86_64", kernel: "6.1" }).policy, "oci").text) as { syscalls: { names: string[] }[] };
  assert.ok(back.syscalls.some((s) => s.names.includes("read") && s.names.includes("write")));
});
