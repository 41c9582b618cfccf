/**
 * systemd unit-file syscall settings (research notes §3) and `.nspawn` files:
 * systemd's own parse_syscall_and_errno test vectors, the add/remove table of
 * §3.2 row by row, the man-page example, resets, the first-assignment rule,
 * SystemCallErrorNumber=, SystemCallArchitectures=, SystemCallLog= stacking,
 * and the INI syntax with file:line errors. Expected actions are systemd's,
 * checked through decide() on real syscall numbers.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getAbi, type AbiName } from "../src/abi/arch.js";
import { syscallNumber } from "../src/abi/tables.js";
import { SyscageError } from "../src/errors.js";
import { decide, type Decision } from "../src/policy/evaluate.js";
import { parseIni } from "../src/policy/ini.js";
import { formatPolicyAction, type Policy } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { mergeNspawnOptions, parseNspawnSettings, parseSystemdBoolean } from "../src/policy/nspawn-settings.js";
import {
  buildUnitPolicy,
  parseSyscallAndErrno,
  parseSystemCallErrorNumber,
  parseUnitFile,
  systemdErrorClass,
  unitPolicy,
  type UnitProperty,
} from "../src/policy/systemd-unit.js";

const X86_64_HOST: readonly AbiName[] = ["x86_64", "x86", "x32"];

/** Properties from `KEY=VALUE` strings, located at `u.service:N`. */
function props(...lines: string[]): UnitProperty[] {
  return lines.map((l, i) => {
    const eq = l.indexOf("=");
    return { key: l.slice(0, eq), value: l.slice(eq + 1), where: `u.service:${i + 1}` };
  });
}

function policyOf(...lines: string[]): Policy {
  return unitPolicy(props(...lines), { abis: X86_64_HOST });
}

function call(p: Policy, name: string, abi: AbiName = "x86_64"): Decision {
  const nr = syscallNumber(abi, name);
  assert.ok(nr !== undefined, `${name} has no number on ${abi}`);
  return decide(p, { arch: getAbi(abi).auditArch, nr, args: [] });
}

/** The action of a call as text: "ALLOW", "ERRNO(EACCES)", "KILL_PROCESS". */
function act(p: Policy, name: string, abi: AbiName = "x86_64"): string {
  return formatPolicyAction(call(p, name, abi).action);
}

/** A number no table names (x86_64 numbers end below 600). */
function unknownNr(p: Policy): string {
  return formatPolicyAction(decide(p, { arch: getAbi("x86_64").auditArch, nr: 0x3fff0000, args: [] }).action);
}

function throwsCode(f: () => unknown, code: string, ...mustContain: string[]): SyscageError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SyscageError, `expected a SyscageError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const s of mustContain) assert.ok(caught.message.includes(s), `message lacks ${JSON.stringify(s)}: ${caught.message}`);
  return caught;
}

describe("parse_syscall_and_errno (systemd's test vectors)", () => {
  test("accepted words", () => {
    assert.deepEqual(parseSyscallAndErrno("uname:EILSEQ"), { name: "uname", action: { kind: "errno", errno: "EILSEQ" } });
    assert.deepEqual(parseSyscallAndErrno("uname:EINVAL"), { name: "uname", action: { kind: "errno", errno: "EINVAL" } });
    assert.deepEqual(parseSyscallAndErrno("@sync:4095"), { name: "@sync", action: { kind: "errno", errno: 4095 } });
    assert.deepEqual(parseSyscallAndErrno("mount"), { name: "mount", action: { kind: "default" } });
    assert.deepEqual(parseSyscallAndErrno("hoge:255"), { name: "hoge", action: { kind: "errno", errno: 255 } });
    assert.deepEqual(parseSyscallAndErrno("hoge:0"), { name: "hoge", action: { kind: "errno", errno: 0 } });
    assert.deepEqual(parseSyscallAndErrno("hoge:kill"), { name: "hoge", action: { kind: "kill" } });
  });

  for (const word of ["", ":255", "hoge:12.3", "hoge:123junk", "hoge:junk123", "hoge:255:EILSEQ", "hoge:-EINVAL", "hoge:EINVALaaa", "hoge:"]) {
    test(`${JSON.stringify(word)} → EINVAL`, () => {
      const e = throwsCode(() => parseSyscallAndErrno(word), "SYSCALL_ERRNO_INVALID");
      assert.equal(systemdErrorClass(e), "EINVAL");
    });
  }

  for (const word of ["hoge:4096", "hoge:-3"]) {
    test(`${JSON.stringify(word)} → ERANGE`, () => {
      const e = throwsCode(() => parseSyscallAndErrno(word), "SYSCALL_ERRNO_RANGE", "0..4095");
      assert.equal(systemdErrorClass(e), "ERANGE");
    });
  }

  test("messages say what to write", () => {
    throwsCode(() => parseSyscallAndErrno("mkdir:eacces"), "SYSCALL_ERRNO_INVALID", "upper case", "EACCES");
    throwsCode(() => parseSyscallAndErrno("mkdir:EACESS"), "SYSCALL_ERRNO_INVALID", "EACCES");
  });
});

describe("SystemCallFilter=: the add/remove table (§3.2)", () => {
  test("allow list: foo → allowed; the rest of @known → KILL_PROCESS; unknown numbers → ENOSYS", () => {
    const p = policyOf("SystemCallFilter=mkdir");
    assert.equal(act(p, "mkdir"), "ALLOW");
    assert.equal(act(p, "rmdir"), "KILL_PROCESS");
    assert.equal(act(p, "getpid"), "ALLOW", "@default is merged into an allow list");
    assert.equal(act(p, "seccomp"), "ALLOW", "@default includes @sandbox");
    assert.equal(unknownNr(p), "ERRNO(ENOSYS)");
  });

  test("allow list: ~foo removes foo → the negative action", () => {
    const p = policyOf("SystemCallFilter=mkdir rmdir", "SystemCallFilter=~mkdir");
    assert.equal(act(p, "mkdir"), "KILL_PROCESS");
    assert.equal(act(p, "rmdir"), "ALLOW");
  });

  test("allow list: ~foo:EACCES adds foo with its errno (systemd #18916)", () => {
    const p = policyOf("SystemCallFilter=@system-service", "SystemCallFilter=~uname:EBADF");
    assert.equal(act(p, "uname"), "ERRNO(EBADF)");
    assert.equal(act(p, "read"), "ALLOW");
    const k = policyOf("SystemCallFilter=@system-service", "SystemCallFilter=~uname:kill");
    assert.equal(act(k, "uname"), "KILL_PROCESS");
  });

  test("deny list: ~foo → the negative action (KILL_PROCESS, or SystemCallErrorNumber=)", () => {
    const p = policyOf("SystemCallFilter=~mkdir");
    assert.equal(act(p, "mkdir"), "KILL_PROCESS");
    assert.equal(act(p, "rmdir"), "ALLOW");
    assert.equal(unknownNr(p), "ALLOW", "a deny list allows unknown syscalls");
    const e = policyOf("SystemCallFilter=~mkdir", "SystemCallErrorNumber=EPERM");
    assert.equal(act(e, "mkdir"), "ERRNO(EPERM)");
  });

  test("deny list: ~foo:EACCES / ~foo:kill / ~foo:0", () => {
    const p = policyOf("SystemCallErrorNumber=EPERM", "SystemCallFilter=~mkdir:EACCES rmdir:kill chdir:0 unlink");
    assert.equal(act(p, "mkdir"), "ERRNO(EACCES)");
    assert.equal(act(p, "rmdir"), "KILL_PROCESS");
    assert.equal(act(p, "chdir"), "ERRNO(0)");
    assert.equal(act(p, "unlink"), "ERRNO(EPERM)");
  });

  test("deny list: foo removes foo → allowed", () => {
    const p = policyOf("SystemCallFilter=~@file-system", "SystemCallFilter=mkdir");
    assert.equal(act(p, "mkdir"), "ALLOW");
    assert.equal(act(p, "rmdir"), "KILL_PROCESS");
  });

  test("the man-page example: read and write allowed, then ~write removes write", () => {
    const p = policyOf("SystemCallFilter=read write", "SystemCallFilter=~write");
    assert.equal(act(p, "read"), "ALLOW");
    assert.equal(act(p, "write"), "KILL_PROCESS");
  });

  test("an empty assignment resets the list and its type", () => {
    const p = policyOf("SystemCallFilter=~mkdir", "SystemCallFilter=", "SystemCallFilter=read");
    assert.equal(act(p, "mkdir"), "KILL_PROCESS", "now an allow list without mkdir");
    assert.equal(act(p, "read"), "ALLOW");
    const none = policyOf("SystemCallFilter=read", "SystemCallFilter=");
    assert.equal(none.rules.length, 0);
    assert.equal(act(none, "reboot"), "ALLOW");
    assert.equal(unknownNr(none), "ALLOW");
  });

  test("the first assignment decides the type; later ones only add or remove", () => {
    const deny = policyOf("SystemCallFilter=~mkdir", "SystemCallFilter=rmdir");
    assert.equal(act(deny, "mkdir"), "KILL_PROCESS");
    assert.equal(act(deny, "rmdir"), "ALLOW");
    assert.equal(act(deny, "reboot"), "ALLOW", "still a deny list");
    const allow = policyOf("SystemCallFilter=read", "SystemCallFilter=~mkdir");
    assert.equal(act(allow, "reboot"), "KILL_PROCESS", "still an allow list");
  });

  test("~ only counts as the first character of the whole value; inside a list it is an error", () => {
    throwsCode(() => policyOf("SystemCallFilter=read ~write"), "BAD_SYSCALL_FILTER", "u.service:1", "SystemCallFilter=~write");
  });

  test("the last errno wins", () => {
    const deny = policyOf("SystemCallFilter=~mkdir:EACCES", "SystemCallFilter=~mkdir:EPERM");
    assert.equal(act(deny, "mkdir"), "ERRNO(EPERM)");
    const allow = policyOf("SystemCallFilter=read", "SystemCallFilter=~mkdir:EACCES", "SystemCallFilter=mkdir");
    assert.equal(act(allow, "mkdir"), "ALLOW");
  });

  test("groups expand recursively with the entry's errno", () => {
    const p = policyOf("SystemCallFilter=~@sync:4095");
    assert.equal(act(p, "fsync"), "ERRNO(4095)");
    assert.equal(act(p, "sync"), "ERRNO(4095)");
    assert.equal(act(p, "read"), "ALLOW");
  });

  test(":errno on an allowed entry is an error that explains", () => {
    throwsCode(() => policyOf("SystemCallFilter=read uname:EBADF"), "BAD_SYSCALL_FILTER", "u.service:1", "~ (denied) entry", "SystemCallFilter=~uname:EBADF");
    throwsCode(() => policyOf("SystemCallFilter=~mkdir", "SystemCallFilter=rmdir:EPERM"), "BAD_SYSCALL_FILTER", "u.service:2", "~rmdir:EPERM");
  });

  test("bad words are errors with file:line (systemd ignores them)", () => {
    const e = throwsCode(() => policyOf("SystemCallFilter=mkdri"), "UNKNOWN_SYSCALL", "u.service:1", "mkdri");
    assert.ok(e.suggestions.includes("mkdir"));
    throwsCode(() => policyOf("SystemCallFilter=@fle-system"), "UNKNOWN_GROUP", "u.service:1", "@file-system");
    throwsCode(() => policyOf("SystemCallFilter=file-system"), "UNKNOWN_SYSCALL", "@file-system");
    throwsCode(() => policyOf("SystemCallFilter=~mkdir:4096"), "SYSCALL_ERRNO_RANGE", "u.service:1");
    throwsCode(() => policyOf("SystemCallFiltr=read"), "UNKNOWN_PROPERTY", "SystemCallFilter");
  });

  test("a name that exists only on another ABI is fine", () => {
    const p = unitPolicy(props("SystemCallFilter=~mmap2:EACCES"), { abis: ["x86_64"] });
    assert.equal(act(p, "mmap"), "ALLOW");
    const q = policyOf("SystemCallFilter=~mmap2:EACCES");
    assert.equal(act(q, "mmap2", "x86"), "ERRNO(EACCES)");
  });

  test("origins name the assignment and its place", () => {
    const p = policyOf("SystemCallFilter=@system-service", "SystemCallFilter=~mkdir:EACCES");
    assert.equal(call(p, "mkdir").origin, "SystemCallFilter=~mkdir:EACCES (u.service:2)");
    assert.equal(call(p, "read").origin, "SystemCallFilter=@system-service (u.service:1)");
    assert.match(call(p, "reboot").origin, /u\.service:1.*@known.*KILL_PROCESS/);
  });
});

describe("allow-list defaults as systemd ≥ v255 applies them (§3.4)", () => {
  test("only literal @known entries get the negative action: @obsolete-only names get ENOSYS", () => {
    const p = policyOf("SystemCallFilter=read", "SystemCallErrorNumber=EPERM");
    assert.equal(act(p, "reboot"), "ERRNO(EPERM)");
    assert.equal(act(p, "sysfs"), "ERRNO(EPERM)", "sysfs is in @obsolete and also a literal @known entry");
    for (const name of ["uselib", "create_module", "_sysctl"]) {
      assert.equal(act(p, name), "ERRNO(ENOSYS)", `${name} is only in @obsolete`);
      assert.equal(call(p, name).reason, "default");
    }
    assert.equal(unknownNr(p), "ERRNO(ENOSYS)");
  });

  test("names not native to the host ABI get ENOSYS on compat ABIs (libseccomp pseudo-numbers are skipped)", () => {
    const p = policyOf("SystemCallFilter=read");
    assert.equal(act(p, "stat", "x86"), "KILL_PROCESS");
    assert.equal(act(p, "stat64", "x86"), "ERRNO(ENOSYS)", "stat64 does not exist on x86_64");
    const native = unitPolicy(props("SystemCallFilter=read"), { abis: ["x86"] });
    assert.equal(act(native, "stat64", "x86"), "KILL_PROCESS");
  });

  test("SystemCallErrorNumber=ENOSYS needs no override: everything unlisted is ENOSYS", () => {
    const p = policyOf("SystemCallFilter=read", "SystemCallErrorNumber=ENOSYS");
    assert.equal(act(p, "reboot"), "ERRNO(ENOSYS)");
    assert.ok(p.rules.every((r) => r.action.kind === "ALLOW"));
  });
});

describe("SystemCallErrorNumber=", () => {
  test("empty and kill → kill; names and 1..4095 → errno; 0 and out of range rejected", () => {
    assert.deepEqual(parseSystemCallErrorNumber("", "x"), { kind: "kill" });
    assert.deepEqual(parseSystemCallErrorNumber("kill", "x"), { kind: "kill" });
    assert.deepEqual(parseSystemCallErrorNumber("EPERM", "x"), { kind: "errno", errno: "EPERM" });
    assert.deepEqual(parseSystemCallErrorNumber("4095", "x"), { kind: "errno", errno: 4095 });
    throwsCode(() => parseSystemCallErrorNumber("0", "u.service:3"), "BAD_ERRNO", "u.service:3", "SystemCallErrorNumber=0");
    throwsCode(() => parseSystemCallErrorNumber("4096", "u.service:3"), "BAD_ERRNO", "0..4095");
    throwsCode(() => parseSystemCallErrorNumber("log", "u.service:3"), "BAD_ERRNO", "kill");
  });

  test("the last assignment wins; an empty one restores kill", () => {
    const p = policyOf("SystemCallFilter=read", "SystemCallErrorNumber=EPERM", "SystemCallErrorNumber=EACCES");
    assert.equal(act(p, "reboot"), "ERRNO(EACCES)");
    const q = policyOf("SystemCallFilter=read", "SystemCallErrorNumber=EPERM", "SystemCallErrorNumber=");
    assert.equal(act(q, "reboot"), "KILL_PROCESS");
  });
});

describe("SystemCallArchitectures=", () => {
  test("native keeps only the native ABI; other arches are killed (SCMP_ACT_KILL = KILL_THREAD)", () => {
    const p = policyOf("SystemCallArchitectures=native");
    assert.deepEqual(p.abis, ["x86_64"]);
    assert.equal(p.badArch.action.kind, "KILL_THREAD");
    const d = decide(p, { arch: getAbi("x86").auditArch, nr: 1, args: [] });
    assert.equal(d.reason, "badArch");
    const x32 = decide(p, { arch: getAbi("x32").auditArch, nr: 0x40000000, args: [] });
    assert.equal(x32.reason, "badArch");
  });

  test("systemd spellings and any parseAbi spelling; the native ABI is always kept", () => {
    assert.deepEqual(policyOf("SystemCallArchitectures=x86").abis, ["x86_64", "x86"]);
    assert.deepEqual(policyOf("SystemCallArchitectures=x86-64 i386").abis, ["x86_64", "x86"]);
    assert.deepEqual(policyOf("SystemCallArchitectures=x86", "SystemCallArchitectures=x32").abis, ["x86_64", "x86", "x32"]);
    assert.equal(policyOf("SystemCallArchitectures=x86 x32").badArch.action.kind, "KILL_PROCESS", "nothing blocked");
  });

  test("an empty value resets", () => {
    assert.deepEqual(policyOf("SystemCallArchitectures=native", "SystemCallArchitectures=").abis, [...X86_64_HOST]);
  });

  test("on an x32 host, listing x32 keeps x86-64 (the x32 vDSO needs it)", () => {
    const local: AbiName[] = ["x32", "x86", "x86_64"];
    assert.deepEqual(unitPolicy(props("SystemCallArchitectures=x32"), { abis: local }).abis, ["x32", "x86_64"]);
    assert.deepEqual(unitPolicy(props("SystemCallArchitectures=native"), { abis: local }).abis, ["x32"]);
  });

  test("unknown names are errors with suggestions; non-local ABIs warn", () => {
    const e = throwsCode(() => policyOf("SystemCallArchitectures=x86-46"), "UNKNOWN_ARCH", "u.service:1");
    assert.ok(e.suggestions.length > 0);
    const r = buildUnitPolicy(props("SystemCallArchitectures=arm64"), { abis: X86_64_HOST });
    assert.ok(r.warnings.some((w) => w.includes("aarch64") && w.includes("no effect")));
    assert.deepEqual(r.policy.abis, ["x86_64"]);
  });
});

describe("SystemCallLog= stacked with SystemCallFilter=", () => {
  test("a log list logs the listed calls and allows the rest", () => {
    const p = policyOf("SystemCallLog=mkdir @sync");
    assert.equal(act(p, "mkdir"), "LOG");
    assert.equal(act(p, "fsync"), "LOG");
    assert.equal(act(p, "read"), "ALLOW");
    assert.equal(unknownNr(p), "ALLOW");
  });

  test("~list logs everything else; the first assignment decides; empty resets", () => {
    const p = policyOf("SystemCallLog=~read", "SystemCallLog=write");
    assert.equal(act(p, "read"), "ALLOW");
    assert.equal(act(p, "write"), "LOG", "write removed from the exemptions");
    assert.equal(act(p, "mkdir"), "LOG");
    assert.equal(unknownNr(p), "LOG");
    assert.equal(act(policyOf("SystemCallLog=~read", "SystemCallLog="), "mkdir"), "ALLOW");
  });

  test("stacking: ERRNO/KILL beat LOG, LOG beats ALLOW (the lowest action value wins)", () => {
    const p = policyOf("SystemCallFilter=mkdir", "SystemCallFilter=~uname:EBADF", "SystemCallLog=~mkdir");
    assert.equal(act(p, "mkdir"), "ALLOW", "allowed and exempt from logging");
    assert.equal(act(p, "getpid"), "LOG", "allowed by the filter, logged by the log filter");
    assert.equal(act(p, "reboot"), "KILL_PROCESS");
    assert.equal(act(p, "uname"), "ERRNO(EBADF)");
    assert.equal(unknownNr(p), "ERRNO(ENOSYS)");
    assert.equal(call(p, "getpid").origin, "SystemCallLog=~… (u.service:3) logs every call not listed");

    const q = policyOf("SystemCallFilter=~mkdir", "SystemCallLog=rmdir mkdir");
    assert.equal(act(q, "rmdir"), "LOG");
    assert.equal(act(q, "mkdir"), "KILL_PROCESS");
    assert.equal(act(q, "read"), "ALLOW");
    assert.match(call(q, "rmdir").origin, /^SystemCallLog=rmdir mkdir|^SystemCallLog=rmdir/);
  });

  test("SystemCallLog= takes no :errno", () => {
    throwsCode(() => policyOf("SystemCallLog=mkdir:EPERM"), "BAD_SYSCALL_FILTER", "u.service:1", "no \":errno\"");
  });
});

describe("INI syntax", () => {
  test("sections, comments, continuation lines, whitespace", () => {
    const ini = parseIni("# c\n[Service]\n; c\nSystemCallFilter = read \\\n  # skipped\n  write\nX=1\n", "a.service");
    assert.deepEqual(
      ini.assignments.map((a) => [a.section, a.key, a.value, a.where]),
      [
        ["Service", "SystemCallFilter", "read    write", "a.service:4"],
        ["Service", "X", "1", "a.service:7"],
      ],
    );
  });

  test("errors name file:line and the fix", () => {
    throwsCode(() => parseIni("[Service]\nSystemCallFilter\n", "a.service"), "INI_SYNTAX", "a.service:2", "Key=Value");
    throwsCode(() => parseIni("\nSystemCallFilter=read\n", "a.service"), "INI_SYNTAX", "a.service:2", "before any section");
    throwsCode(() => parseIni("[Service\n", "a.service"), "INI_SYNTAX", "a.service:1", "[Name]");
    throwsCode(() => parseIni("[Service]\n=x\n", "a.service"), "INI_SYNTAX", "a.service:2", "no key");
  });
});

describe("unit files", () => {
  const UNIT = [
    "[Unit]",
    "Description=demo",
    "SystemCallFilter=~read",
    "",
    "[Service]",
    "ExecStart=/bin/true",
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~mkdir:EACCES",
    "SystemCallErrorNumber=EPERM",
    "RestrictNamespaces=yes",
    "ProtectSystem=strict",
    "[Install]",
    "WantedBy=multi-user.target",
  ].join("\n");

  test("[Service] syscall properties and directives in order; other keys skipped; non-seccomp sandboxing keys warn", () => {
    const u = parseUnitFile(UNIT, "app.service");
    assert.deepEqual(
      u.properties.map((p) => `${p.key}=${p.value} @${p.where}`),
      [
        "SystemCallFilter=@system-service @app.service:7",
        "SystemCallFilter=~mkdir:EACCES @app.service:8",
        "SystemCallErrorNumber=EPERM @app.service:9",
        "RestrictNamespaces=yes @app.service:10",
      ],
    );
    assert.equal(u.warnings.length, 2, u.warnings.join("\n"));
    assert.ok(u.warnings.some((w) => w.startsWith("app.service: ProtectSystem= (app.service:11) confine the service by other means than seccomp")));
    assert.ok(u.warnings.some((w) => w.startsWith("app.service:3: SystemCallFilter= in [Unit]")));
    const p = unitPolicy(u.properties, { abis: X86_64_HOST });
    assert.equal(call(p, "mkdir").origin, "SystemCallFilter=~mkdir:EACCES (app.service:8)");
    assert.equal(act(p, "mkdir"), "ERRNO(EACCES)");
    assert.equal(act(p, "reboot"), "ERRNO(EPERM)");
  });
});

describe(".nspawn files", () => {
  const SETTINGS = [
    "[Exec]",
    "Boot=yes",
    "SystemCallFilter=@clock",
    "SystemCallFilter=~mkdir",
    "Capability=CAP_SYS_TIME cap_ipc_lock",
    "DropCapability=CAP_SYS_PTRACE",
    "[Files]",
    "Bind=/srv",
    "[Network]",
    "Private=off",
    "[Weird]",
    "Foo=bar",
  ].join("\n");

  test("the syscall keys become NspawnOptions; every other key is a warning naming it", () => {
    const s = parseNspawnSettings(SETTINGS, "c.nspawn");
    assert.deepEqual(s.options, {
      systemCallFilter: ["@clock", "~mkdir"],
      capability: ["CAP_SYS_TIME", "cap_ipc_lock"],
      dropCapability: ["CAP_SYS_PTRACE"],
      privateNetwork: false,
    });
    assert.equal(s.warnings.length, 3, s.warnings.join("\n"));
    assert.ok(s.warnings.some((w) => w.startsWith("c.nspawn:2: [Exec] Boot=")));
    assert.ok(s.warnings.some((w) => w.startsWith("c.nspawn:8: [Files] Bind=")));
    assert.ok(s.warnings.some((w) => w.startsWith("c.nspawn:12:") && w.includes("[Weird]")));
    const p = nspawnPolicy({ ...s.options, abis: ["x86_64"] });
    assert.equal(act(p, "settimeofday"), "ALLOW", "CAP_SYS_TIME opens @clock");
    assert.equal(act(p, "mkdir"), "ERRNO(EPERM)");
    assert.equal(act(p, "ptrace"), "ERRNO(EPERM)", "CAP_SYS_PTRACE dropped");
  });

  test("booleans use systemd's spellings; network keys imply a private network", () => {
    for (const t of ["1", "yes", "Y", "true", "t", "ON"]) assert.equal(parseSystemdBoolean(t, "x"), true);
    for (const f of ["0", "no", "n", "FALSE", "f", "off"]) assert.equal(parseSystemdBoolean(f, "x"), false);
    throwsCode(() => parseNspawnSettings("[Network]\nPrivate=maybe\n", "c.nspawn"), "BAD_BOOLEAN", "c.nspawn:2");
    const v = parseNspawnSettings("[Network]\nVirtualEthernet=yes\n", "c.nspawn");
    assert.equal(v.options.privateNetwork, true);
    assert.ok(v.warnings[0]!.includes("VirtualEthernet="));
  });

  test("bad values are errors with file:line", () => {
    throwsCode(() => parseNspawnSettings("[Exec]\n\nSystemCallFilter=mkdri\n", "c.nspawn"), "UNKNOWN_SYSCALL", "c.nspawn:3");
    throwsCode(() => parseNspawnSettings("[Exec]\nCapability=CAP_SYS_TIM\n", "c.nspawn"), "UNKNOWN_CAPABILITY", "c.nspawn:2", "CAP_SYS_TIME");
    throwsCode(() => parseNspawnSettings("[Exec]\nCapability=CAP_SYS_TIME,CAP_BPF\n", "c.nspawn"), "UNKNOWN_CAPABILITY", "space-separated");
  });

  test("the command line overrides the file, per setting group", () => {
    const file = parseNspawnSettings(SETTINGS, "c.nspawn");
    const onlyArch = mergeNspawnOptions(file, { abis: ["x86_64"] }, "c.nspawn");
    assert.deepEqual(onlyArch.options, { ...file.options, abis: ["x86_64"] });
    assert.deepEqual(onlyArch.warnings, []);
    const cli = mergeNspawnOptions(file, { systemCallFilter: ["~rmdir"], dropCapability: ["CAP_SYS_BOOT"], privateNetwork: true }, "c.nspawn");
    assert.deepEqual(cli.options, { systemCallFilter: ["~rmdir"], dropCapability: ["CAP_SYS_BOOT"], privateNetwork: true });
    assert.equal(cli.warnings.length, 2);
  });
});
