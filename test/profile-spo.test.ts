/**
 * Kubernetes SeccompProfile documents (the Security Profiles Operator's CRD,
 * YAML) as profile sources (#19, item 3): what `convert --to spo` writes reads
 * back everywhere a profile is accepted, with the same program as the OCI
 * export and a proof of equivalence with the source; multi-document YAML;
 * errors name the YAML line; --name follows the Kubernetes name rule.
 */
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { SyscageError } from "../src/errors.js";
import { parseProfile } from "../src/policy/oci.js";
import { cli, cliBytes } from "./helpers/cli.js";
import { sharedDataDir } from "./helpers/oracles.js";

const dir = mkdtempSync(join(tmpdir(), "syscage-spo-"));

describe("SeccompProfile YAML as a profile source", () => {
  test("convert --to spo reads back: compile gives the OCI export's program, prove says equivalent to the source, diff equal", (t) => {
    const data = sharedDataDir(t);
    if (data === null) return;
    // Podman's default cannot be written as SPO (no defaultErrnoRet there; convert refuses it with the reason).
    for (const f of ["docker-default.json"]) {
      const src = join(data, "profiles", f);
      const spo = join(dir, `${f}.yaml`);
      const oci = join(dir, `${f}.oci.json`);
      assert.equal(cli("convert", "--profile", src, "--to", "spo", "--name", "web", "-o", spo).code, 0);
      assert.equal(cli("convert", "--profile", src, "--to", "oci", "-o", oci).code, 0);
      const fromSpo = cliBytes("compile", "--profile", spo, "--format", "raw");
      const fromOci = cliBytes("compile", "--profile", oci, "--format", "raw");
      assert.equal(fromSpo.code, 0, fromSpo.err);
      assert.ok(fromSpo.out.length > 100);
      assert.deepEqual(fromSpo.out, fromOci.out, `${f}: the SPO and OCI exports compile to the same bytes`);
      const bpf = join(dir, `${f}.bpf`);
      writeFileSync(bpf, fromSpo.out);
      const proof = cli("prove", bpf, "--profile", src);
      assert.equal(proof.code, 0, proof.out + proof.err);
      assert.match(proof.out, /^equivalent: /m);
      const d = cli("diff", spo, src);
      assert.equal(d.code, 0, d.out + d.err);
      assert.match(d.out, /summary: equal/);
      assert.equal(cli("explain", "ptrace", "--profile", spo, "--arch", "x86_64").code, 0);
    }
  });

  test("multi-document YAML: the SeccompProfile is found among other kinds; two of them are refused by name", () => {
    const profile = `apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: small
spec:
  defaultAction: SCMP_ACT_ERRNO
  architectures: [SCMP_ARCH_X86_64]
  syscalls:
    - action: SCMP_ACT_ALLOW
      names: [read, write, exit_group]
`;
    const multi = `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n---\n${profile}`;
    const p = parseProfile(multi, "multi.yaml");
    assert.deepEqual(p.policy.abis, ["x86_64"]);
    assert.deepEqual(p.policy.rules.map((r) => r.syscall).sort(), ["exit_group", "read", "write"]);
    assert.throws(() => parseProfile(`${profile}---\n${profile.replace("small", "other")}`, "two.yaml"), (e: unknown) => e instanceof SyscageError && /two\.yaml: 2 SeccompProfile documents \(small, other\)/.test(e.message));
  });

  test("an error in the YAML names the YAML file and line, and the JSON path in spec", () => {
    const text = `# a comment
apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: bad
spec:
  defaultAction: SCMP_ACT_ERRNO
  syscalls:
    - action: SCMP_ACT_ALLOW
      names: [read]
    - action: SCMP_ACT_ALOW
      names: [write]
`;
    assert.throws(
      () => parseProfile(text, "bad.yaml"),
      (e: unknown) => e instanceof SyscageError && /^bad\.yaml:11: syscalls\[1\]\.action: /.test(e.message) && /SCMP_ACT_ALLOW/.test(e.message),
    );
    assert.throws(() => parseProfile("kind: SeccompProfile\nspec: [\n", "broken.yaml"), (e: unknown) => e instanceof SyscageError && /^broken\.yaml:\d+: YAML syntax error/.test(e.message));
    assert.throws(() => parseProfile("kind: SeccompProfile\nmetadata:\n  name: x\n", "nospec.yaml"), (e: unknown) => e instanceof SyscageError && /has no "spec" mapping/.test(e.message));
  });

  test("a value above 2^53 in the YAML stays exact", () => {
    const text = `kind: SeccompProfile
spec:
  defaultAction: SCMP_ACT_ERRNO
  architectures: [SCMP_ARCH_X86_64]
  syscalls:
    - action: SCMP_ACT_ALLOW
      names: [personality]
      args:
        - { index: 0, value: 18446744073709551615, op: SCMP_CMP_EQ }
`;
    assert.equal(parseProfile(text, "big.yaml").policy.rules[0]!.conditions[0]!.value, (1n << 64n) - 1n);
  });

  test("--name must be a Kubernetes name", () => {
    const r = cli("convert", "--to", "spo", "--name", "Bad Name!");
    assert.equal(r.code, 1);
    assert.equal(r.err, 'syscage: --name "Bad Name!": not a Kubernetes name (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters); for example --name bad-name\n');
    assert.equal(cli("convert", "--to", "spo", "--name", "web.v1-2").code, 0);
  });
});

