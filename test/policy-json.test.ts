/**
 * The policy JSON format (src/policy/json.ts, docs/policy.schema.json): a
 * valid file becomes the expected Policy with exact 64-bit values; every
 * class of mistake is an error that names the file, the line, the JSON path
 * and the fix.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { localAbis } from "../src/abi/arch.js";
import { SyscageError } from "../src/errors.js";
import { lineColumn, parsePolicyJson, policySchema, readPolicyFile } from "../src/policy/json.js";
import { schemaValidator } from "../src/policy/jsontree.js";
import { OUTPUT_FILE, generate as generateValidators } from "../scripts/gen-validators.js";
import { FILTER_FLAGS, OPERATORS } from "../src/policy/model.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

const EXAMPLE = `{
  "default": "ERRNO(EPERM)",
  "unknown": "ERRNO(ENOSYS)",
  "badArch": "KILL_PROCESS",
  "abis": ["x86_64", "i386", "SCMP_ARCH_X32"],
  "flags": ["TSYNC", "LOG"],
  "rules": [
    { "syscalls": ["read", "write", "close"], "action": "ALLOW", "comment": "basic I/O" },
    { "syscall": "socket", "action": "ERRNO(EAFNOSUPPORT)", "args": [ { "index": 0, "op": "EQ", "value": 16 }, { "index": 2, "op": "EQ", "value": 9 } ] },
    { "syscall": "clone", "action": "ALLOW", "args": [ { "index": 0, "op": "MASKED_EQ", "mask": "0x7e020000", "value": 0 } ] },
    { "syscall": "personality", "action": "ALLOW", "args": [ { "index": 0, "op": "EQ", "value": 18446744073709551615 } ] },
    { "syscall": "openat", "action": "TRAP(3)", "args": [ { "index": 0, "op": "NE", "value": -100 }, { "index": 1, "op": "GT", "value": "-100" } ] },
    { "syscall": "ioctl", "action": "ALLOW", "args": [ { "index": 1, "op": "LE", "value": 9007199254740993 } ] }
  ]
}
`;

/** The error thrown by parsing `text` (as "p.json"). */
function errorOf(text: string): SyscageError {
  try {
    parsePolicyJson(text, "p.json");
  } catch (e) {
    assert.ok(e instanceof SyscageError, `not a SyscageError: ${String(e)}`);
    return e;
  }
  assert.fail(`no error for:\n${text}`);
}

/** Assert the error's code and that its message starts with `p.json:LINE: PATH:` and contains every fragment. */
function assertError(text: string, code: string, line: number, path: string, ...fragments: string[]): SyscageError {
  const e = errorOf(text);
  assert.equal(e.code, code, e.message);
  assert.ok(e.message.startsWith(`p.json:${line}: ${path}: `), `location: ${e.message}`);
  assert.ok(!e.message.includes("\n"), "one line");
  for (const f of fragments) assert.ok(e.message.includes(f), `message lacks ${JSON.stringify(f)}: ${e.message}`);
  return e;
}

/** A one-rule policy with the rule on line 3. */
function rule(body: string): string {
  return `{\n  "rules": [\n    ${body}\n  ]\n}\n`;
}

describe("valid policies", () => {
  test("the documented example becomes the expected Policy", () => {
    const p = parsePolicyJson(EXAMPLE, "policy.json");
    assert.deepEqual(p.abis, ["x86_64", "x86", "x32"]);
    assert.deepEqual(p.flags, ["TSYNC", "LOG"]);
    assert.deepEqual(p.default.action, { kind: "ERRNO", errno: "EPERM" });
    assert.deepEqual(p.unknown.action, { kind: "ERRNO", errno: "ENOSYS" });
    assert.deepEqual(p.badArch.action, { kind: "KILL_PROCESS" });
    assert.deepEqual(
      p.rules.map((r) => r.syscall),
      ["read", "write", "close", "socket", "clone", "personality", "openat", "ioctl"],
    );
    // Origins: file, 1-based rule number in the file, and the comment.
    assert.equal(p.rules[0]!.origin, "policy.json rule #1 (basic I/O)");
    assert.equal(p.rules[2]!.origin, "policy.json rule #1 (basic I/O)");
    assert.equal(p.rules[3]!.origin, "policy.json rule #2");
    assert.equal(p.rules[7]!.origin, "policy.json rule #6");
    assert.deepEqual(p.rules[3]!.action, { kind: "ERRNO", errno: "EAFNOSUPPORT" });
    assert.deepEqual(p.rules[3]!.conditions, [
      { arg: 0, op: "EQ", value: 16n },
      { arg: 2, op: "EQ", value: 9n },
    ]);
    assert.deepEqual(p.rules[4]!.conditions, [{ arg: 0, op: "MASKED_EQ", value: 0n, mask: 0x7e020000n }]);
    // Exact u64 values, above 2^53 and negative (two's complement), as number and string.
    assert.equal(p.rules[5]!.conditions[0]!.value, 0xffffffffffffffffn);
    assert.deepEqual(p.rules[6]!.action, { kind: "TRAP", data: 3 });
    assert.equal(p.rules[6]!.conditions[0]!.value, 0xffffffffffffff9cn);
    assert.equal(p.rules[6]!.conditions[1]!.value, 0xffffffffffffff9cn);
    assert.equal(p.rules[7]!.conditions[0]!.value, 9007199254740993n, "2^53 + 1 is not rounded");
  });

  test("an empty object gets definePolicy's defaults and the host's ABIs", () => {
    const p = parsePolicyJson("{}", "empty.json");
    assert.deepEqual(p.rules, []);
    assert.deepEqual(p.abis, localAbis());
    assert.deepEqual(p.default.action, { kind: "ERRNO", errno: "EPERM" });
    assert.deepEqual(p.unknown.action, { kind: "ERRNO", errno: "ENOSYS" });
    assert.deepEqual(p.badArch.action, { kind: "KILL_PROCESS" });
    assert.equal(p.default.origin, "empty.json: default action");
  });

  test('"abis": "host", "host" inside a list, and aliases; duplicates dropped', () => {
    assert.deepEqual(parsePolicyJson('{"abis": "host"}', "p.json").abis, localAbis());
    assert.deepEqual(parsePolicyJson('{"abis": ["arm64", "aarch64", "armhf"]}', "p.json").abis, ["aarch64", "arm"]);
    const mixed = parsePolicyJson('{"abis": ["s390x", "host"]}', "p.json").abis;
    assert.equal(mixed[0], "s390x");
    assert.deepEqual(mixed.slice(1), localAbis().filter((a) => a !== "s390x"));
  });

  test("a byte-order mark, $schema and a top-level comment are accepted", () => {
    const p = parsePolicyJson('\ufeff{"$schema": "./policy.schema.json", "comment": "x", "rules": [{"syscall": "read", "action": "SCMP_ACT_ALLOW"}]}', "p.json");
    assert.deepEqual(p.rules[0]!.action, { kind: "ALLOW" });
  });

  test("readPolicyFile reads a file and names rules after its path", () => {
    const dir = mkdtempSync(join(tmpdir(), "syscage-policy-json-"));
    const f = join(dir, "policy.json");
    writeFileSync(f, EXAMPLE);
    const p = readPolicyFile(f);
    assert.equal(p.rules[0]!.origin, `${f} rule #1 (basic I/O)`);
    assert.throws(() => readPolicyFile(join(dir, "missing.json")), (e: Error) => e instanceof SyscageError && /missing\.json: no such file; check the path/.test(e.message));
  });
});

describe("errors name the file, the line and the field", () => {
  test("syntax errors give line:column", () => {
    const e = errorOf('{\n  "rules": [\n    {"syscall": "read", "action": "ALLOW",}\n  ]\n}');
    assert.equal(e.code, "POLICY_SYNTAX");
    assert.equal(e.message, "p.json:3:43: syntax error: trailing comma; remove the comma before this } or ]");
    assert.match(errorOf('{\n  "rules": [\n  ]\n  "flags": []\n}').message, /^p\.json:4:3: syntax error: expected ',' between items$/);
    assert.match(errorOf("{\n  // no comments\n}").message, /^p\.json:2:3: syntax error: comments are not allowed in JSON/);
    assert.match(errorOf("{'rules': []}").message, /^p\.json:1:2: syntax error: .*double quotes/);
    assert.match(errorOf("").message, /^p\.json:1: the file is empty/);
    assert.match(errorOf('{"rules": [] } {}').message, /^p\.json:1:16: syntax error: unexpected text after the end/);
  });

  test("wrong types", () => {
    assertError(rule('{"syscall": "read", "action": 1}'), "POLICY_SCHEMA", 3, "rules[0].action", "must be a string, not an integer", '"ALLOW"');
    assertError('{\n"rules": {}\n}', "POLICY_SCHEMA", 2, "rules", "must be a list, not an object");
    assertError("[]", "POLICY_SCHEMA", 1, "(top level)", "must be an object, not a list");
    assertError(rule('{"syscall": "read", "action": "ALLOW", "args": [{"index": 0, "op": "EQ", "value": 1.5}]}'), "POLICY_SCHEMA", 3, "rules[0].args[0].value", "must be an integer or a string");
    assertError(rule('{"syscall": "read", "action": "ALLOW", "args": [{"index": 0, "op": "EQ", "value": "12abc"}]}'), "POLICY_SCHEMA", 3, "rules[0].args[0].value", '"12abc" is not an integer', '"0x7e020000"');
    assertError('{\n"abis": "x86_64"\n}', "POLICY_SCHEMA", 2, "abis", 'must be "host" or a non-empty list');
  });

  test("unknown fields are errors with a suggestion, on the field's own line", () => {
    const e = assertError('{\n  "rules": [\n    {"action": "ALLOW",\n     "sycall": "read"}\n  ]\n}', "POLICY_UNKNOWN_FIELD", 4, "rules[0]", 'unknown field "sycall"', 'Did you mean "syscall"');
    assert.ok(e.suggestions.includes("syscall"));
    assertError('{\n"defualt": "ALLOW"\n}', "POLICY_UNKNOWN_FIELD", 2, "(top level)", 'unknown field "defualt"', 'Did you mean "default"');
    assertError(rule('{"syscall": "read", "action": "ALLOW", "args": [{"index": 0, "op": "EQ", "valeu": 1}]}'), "POLICY_UNKNOWN_FIELD", 3, "rules[0].args[0]", 'unknown field "valeu"', '"value"');
  });

  test("a field given twice is an error", () => {
    assertError('{\n"rules": [],\n"rules": []\n}', "POLICY_DUPLICATE_FIELD", 3, "(top level)", 'field "rules" is given twice');
  });

  test("argument index 6", () => {
    assertError(rule('{"syscall": "read", "action": "ALLOW", "args": [{"index": 6, "op": "EQ", "value": 1}]}'), "POLICY_SCHEMA", 3, "rules[0].args[0].index", "must be <= 5 (argument indexes are 0..5)");
    assertError(rule('{"syscall": "read", "action": "ALLOW", "args": [{"index": -1, "op": "EQ", "value": 1}]}'), "POLICY_SCHEMA", 3, "rules[0].args[0].index", "must be >= 0");
  });

  test("unknown operator", () => {
    const e = assertError(rule('{"syscall": "read", "action": "ALLOW", "args": [{"index": 0, "op": "EQQ", "value": 1}]}'), "POLICY_SCHEMA", 3, "rules[0].args[0].op", '"EQQ" is not allowed', 'Did you mean "EQ"', OPERATORS.join(", "));
    assert.ok(e.suggestions.includes("EQ"));
  });

  test("MASKED_EQ without a mask, and a mask on another operator", () => {
    assertError(rule('{"syscall": "clone", "action": "ALLOW", "args": [{"index": 0, "op": "MASKED_EQ", "value": 0}]}'), "POLICY_SCHEMA", 3, "rules[0].args[0]", 'missing field "mask"', "MASKED_EQ");
    assertError(rule('{"syscall": "clone", "action": "ALLOW", "args": [{"index": 0, "op": "EQ", "value": 0, "mask": 1}]}'), "POLICY_SCHEMA", 3, "rules[0].args[0]", "only MASKED_EQ takes one");
  });

  test("rules must name syscalls one way", () => {
    assertError(rule('{"action": "ALLOW"}'), "POLICY_SCHEMA", 3, "rules[0]", "names no syscall");
    assertError(rule('{"syscall": "read", "syscalls": ["write"], "action": "ALLOW"}'), "POLICY_SCHEMA", 3, "rules[0]", 'both "syscall" and "syscalls"');
    assertError(rule('{"syscalls": [], "action": "ALLOW"}'), "POLICY_SCHEMA", 3, "rules[0].syscalls", "must not be empty");
    assertError(rule('{"syscall": "read"}'), "POLICY_SCHEMA", 3, "rules[0]", 'missing field "action"');
  });

  test("unknown syscall, with suggestions, in syscall and in syscalls", () => {
    const e = assertError(rule('{"syscall": "raed", "action": "ALLOW"}'), "UNKNOWN_SYSCALL", 3, "rules[0].syscall", 'unknown syscall "raed"', '"read"');
    assert.ok(e.suggestions.includes("read"));
    assertError('{\n"rules": [\n{"syscalls": ["read",\n "wirte"], "action": "ALLOW"}\n]}', "UNKNOWN_SYSCALL", 4, "rules[0].syscalls[1]", 'unknown syscall "wirte"', '"write"');
  });

  test("unknown errno, errno out of range, bad action", () => {
    assertError(rule('{"syscall": "read", "action": "ERRNO(EPRM)"}'), "BAD_ERRNO", 3, "rules[0].action", 'unknown errno "EPRM"');
    assertError(rule('{"syscall": "read", "action": "ERRNO(4096)"}'), "BAD_ERRNO", 3, "rules[0].action", "errno 4096 is out of range 0..4095");
    assertError(rule('{"syscall": "read", "action": "ALOW"}'), "BAD_ACTION", 3, "rules[0].action", 'unknown action "ALOW"', '"ALLOW"');
    assertError('{\n"default": "ERRNO(4096)"\n}', "BAD_ERRNO", 2, "default", "out of range");
    assertError('{\n\n"badArch": "TRAP(70000)"\n}', "BAD_ACTION", 3, "badArch", "out of range 0..65535");
  });

  test("unknown arch", () => {
    const e = assertError('{\n"abis": ["x86_64",\n "x86_65"]\n}', "UNKNOWN_ARCH", 3, "abis[1]", 'unknown architecture "x86_65"', "Did you mean");
    assert.ok(e.suggestions.length > 0);
  });

  test("values that do not fit in 64 bits", () => {
    assertError(rule('{"syscall": "read", "action": "ALLOW", "args": [{"index": 0, "op": "EQ", "value": 18446744073709551616}]}'), "BAD_VALUE", 3, "rules[0].args[0].value", "does not fit in 64 bits");
    assertError(rule('{"syscall": "read", "action": "ALLOW", "args": [{"index": 0, "op": "MASKED_EQ", "value": 0, "mask": "-9223372036854775809"}]}'), "BAD_VALUE", 3, "rules[0].args[0].mask", "does not fit in 64 bits");
  });

  test("unknown flag and repeated flag", () => {
    assertError('{\n"flags": ["TSYNK"]\n}', "POLICY_SCHEMA", 2, "flags[0]", '"TSYNK" is not allowed', 'Did you mean "TSYNC"');
    assertError('{\n"flags": ["LOG", "LOG"]\n}', "POLICY_SCHEMA", 2, "flags", "same item twice");
  });
});

describe("the schema file", () => {
  test("docs/policy.schema.json is the enforced schema and lists the model's operators and flags", () => {
    const fromDisk = JSON.parse(readFileSync(join(ROOT, "docs/policy.schema.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(policySchema(), fromDisk);
    const defs = fromDisk["$defs"] as Record<string, { properties: Record<string, { enum?: string[]; items?: { enum: string[] } }> }>;
    assert.deepEqual(defs["condition"]!.properties["op"]!.enum, [...OPERATORS]);
    const flags = (fromDisk["properties"] as Record<string, { items: { enum: string[] } }>)["flags"]!.items.enum;
    assert.deepEqual([...flags].sort(), Object.keys(FILTER_FLAGS).sort());
  });

  test("the validators the commands run are the schemas' own: src/policy/generated/validators.ts is what scripts/gen-validators.ts makes of docs/*.schema.json", () => {
    const committed = readFileSync(join(ROOT, OUTPUT_FILE), "utf8");
    assert.equal(committed, generateValidators(), `${OUTPUT_FILE} is stale; run npx tsx scripts/gen-validators.ts`);
    assert.ok(committed.startsWith("// generated by scripts/gen-validators.ts"));
  });

  test("both schemas are valid draft 2020-12 schemas (run time skips this check for speed)", () => {
    for (const f of ["docs/policy.schema.json", "docs/profile.schema.json"]) {
      const schema = JSON.parse(readFileSync(join(ROOT, f), "utf8")) as Record<string, unknown>;
      assert.doesNotThrow(() => schemaValidator(schema, { validateSchema: true }), f);
    }
    // The check is real: a schema with a wrong keyword type is refused.
    assert.throws(() => schemaValidator({ type: "object", properties: { a: { type: 12 } } }, { validateSchema: true }), /schema is invalid/);
  });

  test("the example in docs/policy-format.md is a valid policy", () => {
    const md = readFileSync(join(ROOT, "docs/policy-format.md"), "utf8");
    const example = /```json\n([\s\S]*?)```/.exec(md)?.[1];
    assert.ok(example !== undefined, "no json example");
    const p = parsePolicyJson(example, "policy.json");
    assert.deepEqual(p.abis, ["x86_64", "x86", "x32"]);
    assert.equal(p.rules.length, 7);
    assert.equal(p.rules.find((r) => r.syscall === "openat")!.conditions[0]!.value, 0xffffffffffffff9cn);
  });

  test("lineColumn is 1-based", () => {
    assert.deepEqual(lineColumn("ab\ncd", 0), { line: 1, column: 1 });
    assert.deepEqual(lineColumn("ab\ncd", 4), { line: 2, column: 2 });
  });

  test("lineColumn (an index of line starts) agrees with a scan from the start, across alternating texts", () => {
    const scan = (text: string, offset: number): { line: number; column: number } => {
      const end = Math.max(0, Math.min(offset, text.length));
      const before = text.slice(0, end);
      const last = before.lastIndexOf("\n");
      return { line: before.split("\n").length, column: end - (last + 1) + 1 };
    };
    const text = fc.string({ unit: fc.constantFrom("a", "\n", "{", " ", "\r"), maxLength: 60 });
    fc.assert(
      fc.property(text, text, fc.array(fc.tuple(fc.boolean(), fc.integer({ min: -3, max: 70 })), { maxLength: 12 }), (a, b, asks) => {
        for (const [first, offset] of asks) {
          const t = first ? a : b;
          assert.deepEqual(lineColumn(t, offset), scan(t, offset), `${JSON.stringify(t)} @${offset}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  test("a file of 8000 argument rules: every rule is read, and the errors still name the right line", () => {
    const rules = Array.from({ length: 8000 }, (_, i) => ({ syscall: "ioctl", action: "ALLOW", args: [{ index: 1, op: "EQ", value: i }] }));
    const text = JSON.stringify({ abis: ["x86_64"], rules }, null, 2);
    assert.equal(parsePolicyJson(text, "big.json").rules.length, 8000);
    const bad = text.replace('"value": 7777', '"value": "x7777"');
    const line = bad.slice(0, bad.indexOf('"x7777"')).split("\n").length;
    assert.throws(() => parsePolicyJson(bad, "big.json"), (e: unknown) => e instanceof SyscageError && e.message.startsWith(`big.json:${line}: rules[7777].args[0].value`));
  });
});
