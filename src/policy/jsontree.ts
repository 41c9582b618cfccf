/**
 * Shared JSON machinery of syscage's file readers (our policy format in
 * `json.ts`, container profiles in `oci.ts`): a syntax tree from jsonc-parser
 * with offsets (for line numbers) and literal text (for exact integers above
 * 2^53), JSON paths for messages, and readable messages for Ajv's errors.
 */
import type { Node, ParseError } from "jsonc-parser";
import { ajv2020, jsoncParser } from "../deps.js";
import type { ErrorObject } from "ajv";
import type { ValidateFunction } from "ajv/dist/2020.js";
import { SyscageError, didYouMean, suggest, type ErrorCode , withContext } from "../errors.js";
import { toU64 } from "./model.js";

/** A JSON value as the schema validator sees it (numbers as JS numbers). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One step of a JSON path: a field name or an array index. */
export type PathSegment = string | number;

// ---- locations ---------------------------------------------------------------

/** Offsets where each line starts, for the last text asked about (messages ask many times). */
let lineIndex: { text: string; starts: number[] } | undefined;

function lineStarts(text: string): number[] {
  if (lineIndex?.text === text) return lineIndex.starts;
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  lineIndex = { text, starts };
  return starts;
}

/** 1-based line and column of a character offset (a binary search: every rule of a large file asks). */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(offset, text.length));
  const starts = lineStarts(text);
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= end) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: end - starts[lo]! + 1 };
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
export interface Doc {
  readonly text: string;
  readonly source: string;
  /** When the text was made from another file (a YAML SeccompProfile): that file's line of each line (index = line - 1). */
  readonly lines?: readonly number[];
}

export function at(doc: Doc, node: Node | undefined): string {
  const line = lineColumn(doc.text, node?.offset ?? 0).line;
  return `${doc.source}:${doc.lines?.[line - 1] ?? line}`;
}

/** `FILE:LINE: PATH` — the `where` every message starts with. */
export function where(doc: Doc, node: Node | undefined, path: readonly PathSegment[]): string {
  return `${at(doc, node)}: ${formatJsonPath(path)}`;
}

/** Rethrow a SyscageError with a location prefix, keeping its code and suggestions. */
export function relocate(err: unknown, prefix: string): never {
  withContext(err, `${prefix}: `);
}

// ---- syntax --------------------------------------------------------------------

export function describeSyntaxError(e: ParseError, text: string): string {
  const before = text.slice(0, e.offset).trimEnd();
  const code = jsoncParser().printParseErrorCode(e.error);
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
export function plainValue(node: Node): JsonValue {
  switch (node.type) {
    case "object": {
      // defineProperty, so that "__proto__" is a key like any other (and an unknown field to the schema).
      const o: { [key: string]: JsonValue } = {};
      for (const p of node.children ?? []) {
        const [k, v] = p.children ?? [];
        if (k !== undefined && v !== undefined) Object.defineProperty(o, k.value as string, { value: plainValue(v), enumerable: true, writable: true, configurable: true });
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
export function checkDuplicates(doc: Doc, node: Node, path: PathSegment[], code: ErrorCode = "POLICY_DUPLICATE_FIELD"): void {
  if (node.type === "object") {
    const seen = new Set<string>();
    for (const p of node.children ?? []) {
      const [k, v] = p.children ?? [];
      if (k === undefined) continue;
      const key = k.value as string;
      if (seen.has(key)) {
        throw new SyscageError(code, `${where(doc, k, path)}: field "${key}" is given twice; keep one`);
      }
      seen.add(key);
      if (v !== undefined) checkDuplicates(doc, v, [...path, key], code);
    }
  } else if (node.type === "array") {
    (node.children ?? []).forEach((c, i) => checkDuplicates(doc, c, [...path, i], code));
  }
}

// ---- tree helpers ------------------------------------------------------------

/** The value node of field `key` of an object node. */
export function field(node: Node | undefined, key: string): Node | undefined {
  if (node?.type !== "object") return undefined;
  for (const p of node.children ?? []) {
    const [k, v] = p.children ?? [];
    if (k?.value === key) return v;
  }
  return undefined;
}

/** The property node (key and value) of field `key`. */
export function propertyNode(node: Node | undefined, key: string): Node | undefined {
  return field(node, key)?.parent;
}

/** The node at a JSON path, and the path as segments with numeric indexes. */
export function nodeAtPointer(root: Node, pointer: string): { node: Node; path: PathSegment[] } {
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

export function str(node: Node | undefined): string {
  return node?.value as string;
}

export function describeType(node: Node): string {
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

export function typeNames(t: unknown): string {
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
export function pickError(root: Node, errors: readonly ErrorObject[]): ErrorObject {
  const groups = errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf");
  const kept = errors.filter((e) => e.keyword !== "if" && !groups.some((g) => e.schemaPath.startsWith(`${g.schemaPath}/`)));
  const rank = (e: ErrorObject): number => (e.keyword === "additionalProperties" ? 0 : 1);
  const offset = (e: ErrorObject): number => nodeAtPointer(root, e.instancePath).node.offset;
  const sorted = [...(kept.length > 0 ? kept : errors)].sort((a, b) => rank(a) - rank(b) || offset(a) - offset(b));
  return sorted[0]!;
}

/** Error codes for {@link schemaError}: a schema violation and an unknown field. */
export interface SchemaErrorCodes {
  readonly schema: ErrorCode;
  readonly unknownField: ErrorCode;
}

const POLICY_CODES: SchemaErrorCodes = { schema: "POLICY_SCHEMA", unknownField: "POLICY_UNKNOWN_FIELD" };

/** A SyscageError for one Ajv error, located at its node (`FILE:LINE: PATH: message`). */
export function schemaError(doc: Doc, root: Node, e: ErrorObject, codes: SchemaErrorCodes = POLICY_CODES, prefix: readonly PathSegment[] = []): SyscageError {
  const { node, path: rel } = nodeAtPointer(root, e.instancePath);
  const path = [...prefix, ...rel];
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  const custom = typeof parent["x-message"] === "string" ? parent["x-message"] : undefined;
  const hint = typeof parent["x-hint"] === "string" ? ` (${parent["x-hint"]})` : "";
  let locNode: Node = node;
  let message: string;
  let code = codes.schema;
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
        code = codes.unknownField;
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

/** The exact value of a u64 field: BigInt from the literal's text, or the string as written. */
export function exactU64(doc: Doc, node: Node, path: readonly PathSegment[]): bigint {
  const w = where(doc, node, path);
  if (node.type === "string") return toU64(str(node), w);
  const raw = doc.text.slice(node.offset, node.offset + node.length);
  if (/^-?\d+$/.test(raw)) return toU64(BigInt(raw), w);
  return toU64(node.value as number, w);
}


/**
 * Parse JSON text (a leading BOM is dropped) into a syntax tree, with no
 * comments or trailing commas. Syntax errors are SyscageError `code` with
 * `SOURCE:LINE:COLUMN`; an empty text says `emptyHint`.
 */
/** Deepest nesting of arrays and objects accepted: real policies and profiles use fewer than ten levels. */
export const MAX_JSON_DEPTH = 64;

/** The offset where nesting first goes deeper than `max` (outside strings), or -1. */
function tooDeep(text: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

export function parseJsonDocument(text: string, source: string, code: ErrorCode, emptyHint: string, lines?: readonly number[]): { doc: Doc; root: Node } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const deep = tooDeep(body, MAX_JSON_DEPTH);
  if (deep >= 0) {
    const { line, column } = lineColumn(body, deep);
    throw new SyscageError(code, `${source}:${line}:${column}: nested more than ${MAX_JSON_DEPTH} levels deep; a policy or profile needs fewer than ten — is it the right file?`);
  }
  const doc: Doc = { text: body, source, ...(lines !== undefined ? { lines } : {}) };
  const errors: ParseError[] = [];
  const root = jsoncParser().parseTree(body, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (body.trim() === "") throw new SyscageError(code, `${source}:1: the file is empty; ${emptyHint}`);
  if (errors.length > 0) {
    const e = errors[0]!;
    const { line, column } = lineColumn(body, e.offset);
    throw new SyscageError(code, `${source}:${line}:${column}: syntax error: ${describeSyntaxError(e, body)}`);
  }
  if (root === undefined) throw new SyscageError(code, `${source}:1: syntax error: expected a JSON object`);
  return { doc, root };
}

/**
 * The validator of one of syscage's own JSON Schemas (docs/policy.schema.json,
 * docs/profile.schema.json), with its annotations `x-message` and `x-hint`.
 * The commands do not compile the schemas at run time: scripts/gen-validators.ts
 * writes these validators' standalone code with the same options
 * (src/policy/generated/validators.ts); this function serves that script and
 * test/policy-json.test.ts, which checks both schemas against the draft
 * 2020-12 meta-schema (`validateSchema`).
 */
export function schemaValidator(schema: Record<string, unknown>, opts: { readonly validateSchema?: boolean } = {}): ValidateFunction {
  const ajv = new (ajv2020().Ajv2020)({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, logger: false, validateSchema: opts.validateSchema ?? false });
  ajv.addKeyword({ keyword: "x-message", schemaType: "string" });
  ajv.addKeyword({ keyword: "x-hint", schemaType: "string" });
  return ajv.compile(schema);
}
