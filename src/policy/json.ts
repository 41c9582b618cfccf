/**
 * syscage's own policy file format: JSON, validated with the JSON Schema in
 * `docs/policy.schema.json` (described in `docs/policy-format.md`), then
 * turned into a checked {@link Policy} with {@link definePolicy}.
 *
 * Every error names the file, the line and the JSON path of the offending
 * field (`policy.json:12: rules[3].args[0].index: must be <= 5 (argument
 * indexes are 0..5)`). Integers are read from the source text, so values
 * above 2^53 are exact; negative values mean 64-bit two's complement.
 */
import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import { localAbis, parseAbi, type AbiName } from "../abi/arch.js";
import { SyscageError, didYouMean, suggest } from "../errors.js";
import {
  checkSyscallName,
  definePolicy,
  parseAction,
  toU64,
  type Action,
  type ConditionInput,
  type FilterFlag,
  type Policy,
  type RuleInput,
} from "./model.js";

/** Where the JSON Schema of the format lives: `docs/policy.schema.json` at the package root (from `src/policy/` and from `dist/policy/`). */
export const POLICY_SCHEMA_URL: URL = new URL("../../docs/policy.schema.json", import.meta.url);

/** A JSON value as the schema validator sees it (numbers as JS numbers). */
type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One step of a JSON path: a field name or an array index. */
type PathSegment = string | number;

let validator: ValidateFunction | undefined;

/** The schema document (parsed `docs/policy.schema.json`). */
export function policySchema(): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(POLICY_SCHEMA_URL, "utf8");
  } catch {
    throw new SyscageError(
      "SCHEMA_MISSING",
      `cannot read the policy schema ${POLICY_SCHEMA_URL.pathname}; the syscage installation is incomplete (reinstall the package, which ships docs/)`,
    );
  }
  return JSON.parse(text) as Record<string, unknown>;
}

function getValidator(): ValidateFunction {
  if (validator === undefined) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, logger: false });
    // syscage's annotations: replacement message / hint appended to the message.
    ajv.addKeyword({ keyword: "x-message", schemaType: "string" });
    ajv.addKeyword({ keyword: "x-hint", schemaType: "string" });
    validator = ajv.compile(policySchema());
  }
  return validator;
}

// ---- locations ---------------------------------------------------------------

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: end - start + 1 };
}

/** `rules[3].args[0].index`; the empty path is "(top level)". */
export function formatJsonPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const s of path) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out === "" ? "(top level)" : out;
}

/** Parsing context: the text, its name for messages, the syntax tree. */
interface Doc {
  readonly text: string;
  readonly source: string;
}

function at(doc: Doc, node: Node | undefined): string {
  return `${doc.source}:${lineColumn(doc.text, node?.offset ?? 0).line}`;
}

/** `FILE:LINE: PATH` — the `where` every message starts with. */
function where(doc: Doc, node: Node | undefined, path: readonly PathSegment[]): string {
  return `${at(doc, node)}: ${formatJsonPath(path)}`;
}

/** Rethrow a SyscageError with a location prefix, keeping its code and suggestions. */
function relocate(err: unknown, prefix: string): never {
  if (err instanceof SyscageError) throw new SyscageError(err.code, `${prefix}: ${err.message}`, err.suggestions);
  throw err;
}

// ---- syntax --------------------------------------------------------------------

function describeSyntaxError(e: ParseError, text: string): string {
  const before = text.slice(0, e.offset).trimEnd();
  const code = printParseErrorCode(e.error);
  if ((code === "PropertyNameExpected" || code === "ValueExpected") && before.endsWith(",")) {
    return "trailing comma; remove the comma before this } or ]";
  }
  switch (code) {
    case "InvalidSymbol":
      return `unexpected ${JSON.stringify(text.slice(e.offset, e.offset + Math.max(1, Math.min(e.length, 20))))}; strings need double quotes`;
    case "InvalidNumberFormat":
      return "invalid number; write integers in decimal, or as a string for hex (\"0x7e020000\")";
    case "PropertyNameExpected":
      return "expected a field name in double quotes";
    case "ValueExpected":
      return "expected a value";
    case "ColonExpected":
      return "expected ':' after the field name";
    case "CommaExpected":
      return "expected ',' between items";
    case "CloseBraceExpected":
      return "expected '}' to close the object";
    case "CloseBracketExpected":
      return "expected ']' to close the list";
    case "EndOfFileExpected":
      return "unexpected text after the end of the policy object";
    case "InvalidCommentToken":
    case "UnexpectedEndOfComment":
      return "comments are not allowed in JSON; use a \"comment\" field";
    case "UnexpectedEndOfString":
      return "unterminated string";
    case "UnexpectedEndOfNumber":
      return "incomplete number";
    case "InvalidUnicode":
      return "invalid \\u escape";
    case "InvalidEscapeCharacter":
      return "invalid escape character in string";
    case "InvalidCharacter":
      return "control character in string; escape it (\\n, \\t)";
    default:
      return "invalid JSON";
  }
}

/** Plain JS value of a tree node, numbers as JS numbers (for the schema validator). */
function plainValue(node: Node): JsonValue {
  switch (node.type) {
    case "object": {
      const o: { [key: string]: JsonValue } = {};
      for (const p of node.children ?? []) {
        const [k, v] = p.children ?? [];
        if (k !== undefined && v !== undefined) o[k.value as string] = plainValue(v);
      }
      return o;
    }
    case "array":
      return (node.children ?? []).map(plainValue);
    case "string":
      return node.value as string;
    case "number":
      return node.value as number;
    case "boolean":
      return node.value as boolean;
    default:
      return null;
  }
}

/** Reject a field given twice in one object (JSON.parse would silently keep the last). */
function checkDuplicates(doc: Doc, node: Node, path: PathSegment[]): void {
  if (node.type === "object") {
    const seen = new Set<string>();
    for (const p of node.children ?? []) {
      const [k, v] = p.children ?? [];
      if (k === undefined) continue;
      const key = k.value as string;
      if (seen.has(key)) {
        throw new SyscageError("POLICY_DUPLICATE_FIELD", `${where(doc, k, path)}: field "${key}" is given twice; keep one`);
      }
      seen.add(key);
      if (v !== undefined) checkDuplicates(doc, v, [...path, key]);
    }
  } else if (node.type === "array") {
    (node.children ?? []).forEach((c, i) => checkDuplicates(doc, c, [...path, i]));
  }
}

// ---- tree helpers ------------------------------------------------------------

/** The value node of field `key` of an object node. */
function field(node: Node | undefined, key: string): Node | undefined {
  if (node?.type !== "object") return undefined;
  for (const p of node.children ?? []) {
    const [k, v] = p.children ?? [];
    if (k?.value === key) return v;
  }
  return undefined;
}

/** The property node (key and value) of field `key`. */
function propertyNode(node: Node | undefined, key: string): Node | undefined {
  return field(node, key)?.parent;
}

/** The node at a JSON path, and the path as segments with numeric indexes. */
function nodeAtPointer(root: Node, pointer: string): { node: Node; path: PathSegment[] } {
  const path: PathSegment[] = [];
  let node = root;
  if (pointer === "") return { node, path };
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node.type === "array") {
      const i = Number(seg);
      path.push(i);
      const next = node.children?.[i];
      if (next === undefined) break;
      node = next;
    } else {
      path.push(seg);
      const next = field(node, seg);
      if (next === undefined) break;
      node = next;
    }
  }
  return { node, path };
}

function str(node: Node | undefined): string {
  return node?.value as string;
}

function describeType(node: Node): string {
  switch (node.type) {
    case "number":
      return Number.isInteger(node.value) ? "an integer" : "a number";
    case "object":
      return "an object";
    case "array":
      return "a list";
    case "string":
      return "a string";
    case "boolean":
      return "a boolean";
    default:
      return "null";
  }
}

function typeNames(t: unknown): string {
  const names: Record<string, string> = {
    object: "an object",
    array: "a list",
    string: "a string",
    integer: "an integer",
    number: "a number",
    boolean: "true or false",
    null: "null",
  };
  const list = (Array.isArray(t) ? t : String(t).split(",")).map((x) => names[String(x)] ?? String(x));
  return list.join(" or ");
}

// ---- schema errors -------------------------------------------------------------

/**
 * The error to report. A failed anyOf is reported as a whole (its branches'
 * errors are dropped), `if` wrappers are dropped (the `then`/`else` error
 * stays); an unknown field comes first (a typo explains the rest), then the
 * error earliest in the document.
 */
function pickError(root: Node, errors: readonly ErrorObject[]): ErrorObject {
  const groups = errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf");
  const kept = errors.filter((e) => e.keyword !== "if" && !groups.some((g) => e.schemaPath.startsWith(`${g.schemaPath}/`)));
  const rank = (e: ErrorObject): number => (e.keyword === "additionalProperties" ? 0 : 1);
  const offset = (e: ErrorObject): number => nodeAtPointer(root, e.instancePath).node.offset;
  const sorted = [...(kept.length > 0 ? kept : errors)].sort((a, b) => rank(a) - rank(b) || offset(a) - offset(b));
  return sorted[0]!;
}

function schemaError(doc: Doc, root: Node, e: ErrorObject): SyscageError {
  const { node, path } = nodeAtPointer(root, e.instancePath);
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const custom = typeof parent["x-message"] === "string" ? parent["x-message"] : undefined;
  const hint = typeof parent["x-hint"] === "string" ? ` (${parent["x-hint"]})` : "";
  let locNode: Node = node;
  let message: string;
  let code = "POLICY_SCHEMA";
  let suggestions: string[] = [];
  const params = e.params as Record<string, unknown>;
  if (custom !== undefined) {
    message = custom;
  } else {
    switch (e.keyword) {
      case "type":
        message = `must be ${typeNames(params["type"])}, not ${describeType(node)}${hint}`;
        break;
      case "required":
        message = `missing field "${String(params["missingProperty"])}"${hint}`;
        break;
      case "additionalProperties": {
        const key = String(params["additionalProperty"]);
        const props = parent["properties"];
        const known = props !== null && typeof props === "object" ? Object.keys(props) : [];
        suggestions = suggest(key, known);
        code = "POLICY_UNKNOWN_FIELD";
        locNode = propertyNode(node, key) ?? node;
        message = `unknown field "${key}".${didYouMean(suggestions)} Fields here: ${known.join(", ")}`;
        break;
      }
      case "enum": {
        const allowed = (params["allowedValues"] as unknown[]).map(String);
        const got = node.type === "string" ? JSON.stringify(str(node)) : describeType(node);
        suggestions = node.type === "string" ? suggest(str(node), allowed) : [];
        message = `${got} is not allowed.${didYouMean(suggestions)} Use one of: ${allowed.join(", ")}${hint}`;
        break;
      }
      case "const":
        message = `must be ${JSON.stringify(params["allowedValue"])}${hint}`;
        break;
      case "minimum":
      case "maximum":
        message = `must be ${String(params["comparison"])} ${String(params["limit"])}${hint}`;
        break;
      case "minItems":
        message = `must not be empty${hint}`;
        break;
      case "minLength":
        message = `must not be an empty string${hint}`;
        break;
      case "uniqueItems":
        message = `lists the same item twice (items ${String(params["j"])} and ${String(params["i"])})`;
        break;
      case "pattern":
        message = `${JSON.stringify(str(node))} is not an integer${hint}`;
        break;
      default:
        message = `${e.message ?? "is invalid"}${hint}`;
    }
  }
  return new SyscageError(code, `${where(doc, locNode, path)}: ${message}`, suggestions);
}

// ---- semantics -------------------------------------------------------------------

/** The exact value of a u64 field: BigInt from the literal's text, or the string as written. */
function exactU64(doc: Doc, node: Node, path: readonly PathSegment[]): bigint {
  const w = where(doc, node, path);
  if (node.type === "string") return toU64(str(node), w);
  const raw = doc.text.slice(node.offset, node.offset + node.length);
  if (/^-?\d+$/.test(raw)) return toU64(BigInt(raw), w);
  return toU64(node.value as number, w);
}

function actionAt(doc: Doc, node: Node | undefined, path: readonly PathSegment[]): Action | undefined {
  if (node === undefined) return undefined;
  return parseAction(str(node), where(doc, node, path));
}

/**
 * Resolve a list of ABI spellings (any spelling {@link parseAbi} accepts, or
 * "host" for this machine's local ABIs) to canonical names, without duplicates.
 * `where` prefixes error messages (e.g. "--arch").
 */
export function resolveAbiList(items: readonly string[], where: (index: number) => string): AbiName[] {
  const out: AbiName[] = [];
  items.forEach((item, i) => {
    try {
      const names = item.trim().toLowerCase() === "host" ? localAbis() : [parseAbi(item.trim())];
      for (const n of names) if (!out.includes(n)) out.push(n);
    } catch (err) {
      relocate(err, where(i));
    }
  });
  return out;
}

function conditionAt(doc: Doc, node: Node, path: readonly PathSegment[]): ConditionInput {
  const index = field(node, "index")!.value as number;
  const op = str(field(node, "op"));
  const value = exactU64(doc, field(node, "value")!, [...path, "value"]);
  const maskNode = field(node, "mask");
  const mask = maskNode === undefined ? undefined : exactU64(doc, maskNode, [...path, "mask"]);
  return mask === undefined ? { arg: index, op, value } : { arg: index, op, value, mask };
}

function ruleAt(doc: Doc, node: Node, i: number): RuleInput {
  const path: PathSegment[] = ["rules", i];
  const names: string[] = [];
  const one = field(node, "syscall");
  if (one !== undefined) {
    checkSyscallName(str(one), where(doc, one, [...path, "syscall"]));
    names.push(str(one));
  }
  (field(node, "syscalls")?.children ?? []).forEach((n, j) => {
    checkSyscallName(str(n), where(doc, n, [...path, "syscalls", j]));
    names.push(str(n));
  });
  const action = actionAt(doc, field(node, "action"), [...path, "action"])!;
  const conditions = (field(node, "args")?.children ?? []).map((c, j) => conditionAt(doc, c, [...path, "args", j]));
  const comment = field(node, "comment");
  const origin = `${doc.source} rule #${i + 1}${comment !== undefined && str(comment).trim() !== "" ? ` (${str(comment).trim()})` : ""}`;
  return { syscall: names, action, conditions, origin };
}

/**
 * Parse a policy from JSON text. `source` names the text in messages and
 * rule origins (usually the file name): rule N's origin is
 * `"SOURCE rule #N"`, plus ` (comment)` when the rule has a comment.
 *
 * Throws SyscageError: POLICY_SYNTAX (with line:column), POLICY_SCHEMA /
 * POLICY_UNKNOWN_FIELD / POLICY_DUPLICATE_FIELD (with line and JSON path),
 * and the codes of {@link definePolicy} / {@link parseAbi} (UNKNOWN_SYSCALL,
 * BAD_ACTION, BAD_ERRNO, BAD_VALUE, UNKNOWN_ARCH, …) prefixed with the line
 * and path.
 */
export function parsePolicyJson(text: string, source: string): Policy {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const doc: Doc = { text: body, source };
  const errors: ParseError[] = [];
  const root = parseTree(body, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (body.trim() === "") {
    throw new SyscageError("POLICY_SYNTAX", `${source}:1: the file is empty; a policy is a JSON object such as {"rules": []}`);
  }
  if (errors.length > 0) {
    const e = errors[0]!;
    const { line, column } = lineColumn(body, e.offset);
    throw new SyscageError("POLICY_SYNTAX", `${source}:${line}:${column}: syntax error: ${describeSyntaxError(e, body)}`);
  }
  if (root === undefined) throw new SyscageError("POLICY_SYNTAX", `${source}:1: syntax error: expected a JSON object`);
  checkDuplicates(doc, root, []);
  const validate = getValidator();
  if (validate(plainValue(root)) !== true) {
    throw schemaError(doc, root, pickError(root, validate.errors ?? []));
  }

  const abisNode = field(root, "abis");
  let abis: AbiName[] | undefined;
  if (abisNode !== undefined) {
    const items = abisNode.type === "string" ? [str(abisNode)] : (abisNode.children ?? []).map(str);
    const itemNodes = abisNode.type === "string" ? [abisNode] : (abisNode.children ?? []);
    abis = resolveAbiList(items, (i) => where(doc, itemNodes[i], abisNode.type === "string" ? ["abis"] : ["abis", i]));
  }
  const flags = (field(root, "flags")?.children ?? []).map((n) => str(n) as FilterFlag);
  const rules = (field(root, "rules")?.children ?? []).map((r, i) => ruleAt(doc, r, i));
  const dflt = actionAt(doc, field(root, "default"), ["default"]);
  const unknown = actionAt(doc, field(root, "unknown"), ["unknown"]);
  const badArch = actionAt(doc, field(root, "badArch"), ["badArch"]);
  try {
    return definePolicy({
      origin: source,
      rules,
      flags,
      ...(abis !== undefined ? { abis } : {}),
      ...(dflt !== undefined ? { default: dflt } : {}),
      ...(unknown !== undefined ? { unknown } : {}),
      ...(badArch !== undefined ? { badArch } : {}),
    });
  } catch (err) {
    return relocate(err, source);
  }
}

/** Read and parse a policy file (see {@link parsePolicyJson}); file-system errors are thrown as they come. */
export function readPolicyFile(path: string): Policy {
  return parsePolicyJson(readFileSync(path, "utf8"), path);
}
