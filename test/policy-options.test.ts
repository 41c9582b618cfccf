/**
 * The shared policy options (src/cli/policy-options.ts): which source each
 * combination selects, how they combine, the errors for combinations that
 * make no sense, and `--capability help`. Options are parsed by commander as
 * on the command line.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { rmSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { getAbi, localAbis, type AbiName } from "../src/abi/arch.js";
import { syscallNumber } from "../src/abi/tables.js";
import { SyscageError } from "../src/errors.js";
import { decide } from "../src/policy/evaluate.js";
import { formatPolicyAction, type Policy } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { unitPolicy } from "../src/policy/systemd-unit.js";
import { addPolicyOptions, loadPolicy, type LoadedPolicy, type PolicyOptionValues } from "../src/cli/policy-options.js";

const dir = mkdtempSync(path.join(tmpdir(), "syscage-policy-options-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Parse argv with the policy options, as a command would, and return the values. */
function parse(argv: string[], out: string[] = []): PolicyOptionValues {
  const cmd = addPolicyOptions(new Command("t").exitOverride(), { write: (t) => void out.push(t) });
  cmd.parse(argv, { from: "user" });
  return cmd.opts<PolicyOptionValues>();
}

function load(...argv: string[]): LoadedPolicy {
  return loadPolicy(parse(argv));
}

function act(p: Policy, name: string, abi: AbiName = "x86_64"): string {
  const nr = syscallNumber(abi, name);
  assert.ok(nr !== undefined);
  return formatPolicyAction(decide(p, { arch: getAbi(abi).auditArch, nr, args: [] }).action);
}

function usageError(argv: string[], ...mustContain: string[]): void {
  assert.throws(
    () => load(...argv),
    (e: unknown) => {
      assert.ok(e instanceof SyscageError, String(e));
      for (const s of mustContain) assert.ok(e.message.includes(s), `message lacks ${JSON.stringify(s)}: ${e.message}`);
      assert.ok(!e.message.includes("\n"), "one line");
      return true;
    },
  );
}

describe("loadPolicy: sources", () => {
  test("no option → nspawn's default filter for the host's ABIs", () => {
    const r = load();
    assert.deepEqual(r.policy, nspawnPolicy({}));
    assert.deepEqual(r.policy.abis, [...localAbis()]);
    assert.match(r.source, /^nspawn default/);
    assert.deepEqual(r.warnings, []);
  });

  test("--arch picks the ABIs (any spelling, host)", () => {
    assert.deepEqual(load("--arch", "amd64").policy.abis, ["x86_64"]);
    assert.deepEqual(load("--arch", "host").policy.abis, [...localAbis()]);
    assert.throws(() => load("--arch", "x86_64,,x86"), /empty name/);
  });

  test("nspawn options, repeatable, equal nspawnPolicy with the same options", () => {
    const r = load("--arch", "x86_64", "--system-call-filter", "@clock", "--system-call-filter=~mkdir", "--capability", "CAP_SYS_TIME,CAP_BPF", "--drop-capability", "CAP_SYS_PTRACE", "--private-network");
    const expected = nspawnPolicy({
      abis: ["x86_64"],
      systemCallFilter: ["@clock", "~mkdir"],
      capability: ["CAP_SYS_TIME,CAP_BPF"],
      dropCapability: ["CAP_SYS_PTRACE"],
      privateNetwork: true,
    });
    assert.deepEqual(r.policy, expected);
    assert.equal(act(r.policy, "settimeofday"), "ALLOW");
    assert.equal(act(r.policy, "mkdir"), "ERRNO(EPERM)");
    assert.equal(act(r.policy, "ptrace"), "ERRNO(EPERM)");
    assert.equal(r.source, "nspawn options");
    assert.deepEqual(r.nspawn?.capability, ["CAP_SYS_TIME,CAP_BPF"]);
  });

  test("--settings FILE.nspawn, with the command line overriding the file's SystemCallFilter=", () => {
    const s = file("c.nspawn", "[Exec]\nSystemCallFilter=~mkdir\nBoot=yes\n");
    const fromFile = load("--arch", "x86_64", "--settings", s);
    assert.equal(act(fromFile.policy, "mkdir"), "ERRNO(EPERM)");
    assert.ok(fromFile.warnings.some((w) => w.includes("Boot=")));
    const overridden = load("--arch", "x86_64", "--settings", s, "--system-call-filter", "~rmdir");
    assert.equal(act(overridden.policy, "mkdir"), "ALLOW");
    assert.equal(act(overridden.policy, "rmdir"), "ERRNO(EPERM)");
    assert.ok(overridden.warnings.some((w) => w.includes("SystemCallFilter= is ignored")));
  });

  test("-p KEY=VALUE → a unit policy (replacing nspawn's)", () => {
    const r = load("--arch", "x86_64", "-p", "SystemCallFilter=@system-service", "-p", "SystemCallErrorNumber=EPERM", "--property", "SystemCallFilter=~mkdir:EACCES");
    assert.equal(act(r.policy, "read"), "ALLOW");
    assert.equal(act(r.policy, "reboot"), "ERRNO(EPERM)");
    assert.equal(act(r.policy, "mkdir"), "ERRNO(EACCES)");
    assert.equal(r.source, "-p");
    assert.equal(r.nspawn, undefined);
  });

  test("--unit FILE reads [Service]; -p applies after the file", () => {
    const u = file("app.service", "[Service]\nExecStart=/bin/true\nSystemCallFilter=~mkdir\nProtectClock=yes\nPrivateTmp=yes\n");
    const fromFile = load("--arch", "x86_64", "--unit", u);
    assert.deepEqual(
      fromFile.policy,
      unitPolicy([{ key: "SystemCallFilter", value: "~mkdir", where: `${u}:3` }, { key: "ProtectClock", value: "yes", where: `${u}:4` }], { abis: ["x86_64"] }),
    );
    assert.equal(act(fromFile.policy, "settimeofday"), "ERRNO(EPERM)", "ProtectClock= is read");
    assert.ok(fromFile.warnings.some((w) => w.includes("PrivateTmp=") && w.includes("other means than seccomp")), fromFile.warnings.join("\n"));
    const reset = load("--arch", "x86_64", "--unit", u, "-p", "SystemCallFilter=", "-p", "SystemCallFilter=read");
    assert.equal(act(reset.policy, "mkdir"), "KILL_PROCESS", "the reset made it an allow list");
    assert.equal(reset.source, `${u} + -p`);
  });

  test("--policy FILE.json, its ABIs replaced by --arch", () => {
    const j = file("p.json", '{"default": "ALLOW", "rules": [{"syscall": "mkdir", "action": "ERRNO(EACCES)"}]}');
    const r = load("--policy", j, "--arch", "x86_64");
    assert.deepEqual(r.policy.abis, ["x86_64"]);
    assert.equal(act(r.policy, "mkdir"), "ERRNO(EACCES)");
    assert.equal(act(r.policy, "rmdir"), "ALLOW");
    assert.equal(r.source, j);
  });
});

describe("loadPolicy: combinations that are errors", () => {
  test("--policy with any other policy option", () => {
    const j = file("q.json", "{}");
    usageError(["--policy", j, "--system-call-filter", "read"], "--policy cannot be combined with --system-call-filter");
    usageError(["--policy", j, "-p", "SystemCallFilter=read"], "-p/--property");
    usageError(["--policy", j, "--settings", "x.nspawn"], "--settings");
  });

  test("a unit policy with nspawn options explains why", () => {
    usageError(["-p", "SystemCallFilter=read", "--capability", "CAP_SYS_TIME"], "-p/--property", "--capability", "replaces systemd-nspawn's filter");
    usageError(["--unit", "a.service", "--private-network"], "--unit", "--private-network");
  });

  test("-p needs KEY=VALUE; unknown properties and bad values name the option", () => {
    usageError(["-p", "SystemCallFilter"], "-p SystemCallFilter", "KEY=VALUE");
    usageError(["-p", "ProtectClok=yes"], "-p ProtectClok=yes", "unknown property ProtectClok=", "ProtectClock");
    usageError(["-p", "ProtectClock=maybe"], "-p ProtectClock=maybe", "not a boolean");
    usageError(["-p", "SystemCallFilter=mkdri"], "-p SystemCallFilter=mkdri", "mkdir");
  });

  test("bad nspawn options name the option", () => {
    usageError(["--capability", "CAP_SYS_TIM"], "--capability", "CAP_SYS_TIME");
    usageError(["--system-call-filter", "read ~write"], "~");
  });
});

describe("--capability help", () => {
  test("prints every capability name and ends with exit code 0", () => {
    for (const opt of ["--capability", "--drop-capability"]) {
      const out: string[] = [];
      let caught: unknown;
      try {
        parse([opt, "help"], out);
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof CommanderError, String(caught));
      assert.equal(caught.exitCode, 0);
      const names = out.join("").trimEnd().split("\n");
      assert.equal(names[0], "CAP_CHOWN");
      assert.ok(names.includes("CAP_SYS_ADMIN"));
      assert.ok(names.includes("CAP_BPF"));
    }
  });

  test("the = form works too, and a list containing help is an ordinary (bad) list", () => {
    const out: string[] = [];
    assert.throws(() => parse(["--capability=help"], out), CommanderError);
    assert.ok(out.join("").includes("CAP_SYS_TIME\n"));
    assert.throws(() => load("--capability", "CAP_SYS_TIME,help"), SyscageError);
  });
});

describe("--argument-width", () => {
  const profile = file("width-profile.json", JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["socket"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 38, op: "SCMP_CMP_EQ" }] }] }));
  const wideJson = file("width-u64.json", JSON.stringify({ argumentWidth: "u64", default: "ALLOW", rules: [] }));
  const plainJson = file("width-none.json", JSON.stringify({ default: "ALLOW", rules: [] }));
  test("every source defaults to kernel; the option sets it", () => {
    assert.equal(load().policy.argumentWidth, "kernel");
    assert.equal(load("--argument-width", "u64").policy.argumentWidth, "u64");
    assert.equal(load("-p", "SystemCallFilter=@basic-io", "--argument-width", "u64").policy.argumentWidth, "u64");
    assert.equal(load("--policy", plainJson).policy.argumentWidth, "kernel");
  });
  test("a container profile is imported with kernel widths: socket(AF_ALG | 1 << 32) is denied; with u64 it is not", () => {
    const call = (p: Policy): string => formatPolicyAction(decide(p, { arch: getAbi("x86_64").auditArch, nr: syscallNumber("x86_64", "socket")!, args: [(1n << 32n) | 38n] }).action);
    const k = load("--profile", profile, "--host-arch", "x86_64", "--kernel", "6.1").policy;
    assert.equal(k.argumentWidth, "kernel");
    assert.equal(call(k), "ERRNO(EPERM)");
    const u = load("--profile", profile, "--host-arch", "x86_64", "--kernel", "6.1", "--argument-width", "u64").policy;
    assert.equal(u.argumentWidth, "u64");
    assert.equal(call(u), "ALLOW");
  });
  test("precedence: the option overrides a JSON policy's own argumentWidth, which applies without it", () => {
    assert.equal(load("--policy", wideJson).policy.argumentWidth, "u64");
    assert.equal(load("--policy", wideJson, "--argument-width", "kernel").policy.argumentWidth, "kernel");
  });
  test("anything else is a one-line error naming the option", () => {
    usageError(["--argument-width", "u32"], "--argument-width", '"u32"', "kernel, u64");
  });
});
