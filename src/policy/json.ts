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
import { schemaValidators } from "../deps.js";
import { readInputText } from "../read-file.js";
import { readFileSync } from "node:fs";
import type { ValidateFunction } from "ajv/dist/2020.js";
import type { Node } from "jsonc-parser";
import { ABI_NAMES, ABIS, localAbis, parseAbi, type AbiName } from "../abi/arch.js";
import { SyscageError, didYouMean, suggest } from "../errors.js";
import {
  checkDuplicates,
  exactU64,
  field,
  parseJsonDocument,
  pickError,
  plainValue,
  relocate,
  schemaError,
  str,
  where,
  type Doc,
  type PathSegment,
} from "./jsontree.js";

export { lineColumn, formatJsonPath } from "./jsontree.js";
import {
  checkSyscallName,
  type AuditWaiver,
  definePolicy,
  parseAction,
  type Action,
  type ArgumentWidthMode,
  type RoutesMode,
  type ConditionInput,
  type FilterFlag,
  type Policy,
  type RuleInput,
} from "./model.js";

/** Where the JSON Schema of the format lives: `docs/policy.schema.json` at the package root (from `src/policy/` and from `dist/policy/`). */
export const POLICY_SCHEMA_URL: URL = new URL("../../docs/policy.schema.json", import.meta.url);

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
    // Compiled from docs/policy.schema.json when the package is built (scripts/gen-validators.ts): no schema compiles at run time.
    validator = schemaValidators().validatePolicySchema;
  }
  return validator;
}

// ---- semantics -------------------------------------------------------------------

function actionAt(doc: Doc, node: Node | undefined, path: readonly PathSegment[]): Action | undefined {
  if (node === undefined) return undefined;
  return parseAction(str(node), where(doc, node, path));
}

/**
 * Resolve a list of ABI spellings (any spelling {@link parseAbi} accepts, or
 * "host" for this machine's local ABIs, "all" for every ABI) to canonical names, without duplicates.
 * `where` prefixes error messages (e.g. "--arch").
 */
export function resolveAbiList(items: readonly string[], where: (index: number) => string): AbiName[] {
  const out: AbiName[] = [];
  items.forEach((item, i) => {
    try {
      const word = item.trim().toLowerCase();
      const names = word === "host" ? localAbis() : word === "all" ? [...ABI_NAMES] : [parseAbi(item.trim())];
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
  const abiNodes = field(node, "abis")?.children;
  if (abiNodes === undefined) return { syscall: names, action, conditions, origin };
  abiNodes.forEach((n, j) => {
    if (!ABIS.has(str(n) as AbiName)) {
      const s = suggest(str(n), [...ABIS.keys()]);
      throw new SyscageError("UNKNOWN_ARCH", `${where(doc, n, [...path, "abis", j])}: unknown ABI "${str(n)}".${didYouMean(s)} ABIs: ${[...ABIS.keys()].join(", ")}`, s);
    }
  });
  return { syscall: names, action, conditions, origin, abis: abiNodes.map((n) => str(n)) };
}

/** The `audit` field (the schema checked its shape): waivers with their syscall names checked, errors at their line. */
function auditAt(doc: Doc, node: Node): { waive: AuditWaiver[] } {
  const waive = (field(node, "waive")?.children ?? []).map((w, i): AuditWaiver => {
    const path: PathSegment[] = ["audit", "waive", i];
    const id = str(field(w, "id")).trim();
    const reason = str(field(w, "reason")).trim();
    if (reason === "") throw new SyscageError("BAD_WAIVER", `${where(doc, field(w, "reason"), [...path, "reason"])}: a waiver needs a reason; write why the finding is acceptable here`);
    const sys = field(w, "syscalls");
    if (sys === undefined) return { id, reason };
    const syscalls = (sys.children ?? []).map((n, j) => {
      checkSyscallName(str(n), where(doc, n, [...path, "syscalls", j]));
      return str(n);
    });
    return { id, reason, syscalls };
  });
  return { waive };
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
  const { doc, root } = parseJsonDocument(text, source, "POLICY_SYNTAX", 'a policy is a JSON object such as {"rules": []}');
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
  const widthNode = field(root, "argumentWidth");
  const argumentWidth = widthNode === undefined ? undefined : (str(widthNode) as ArgumentWidthMode);
  const routesNode = field(root, "routes");
  const routes = routesNode === undefined ? undefined : (str(routesNode) as RoutesMode);
  const networkNode = field(root, "network");
  const network = networkNode === undefined ? undefined : networkNode.value === true;
  const rules = (field(root, "rules")?.children ?? []).map((r, i) => ruleAt(doc, r, i));
  const auditNode = field(root, "audit");
  const audit = auditNode === undefined ? undefined : auditAt(doc, auditNode);
  const dflt = actionAt(doc, field(root, "default"), ["default"]);
  const unknown = actionAt(doc, field(root, "unknown"), ["unknown"]);
  const badArch = actionAt(doc, field(root, "badArch"), ["badArch"]);
  try {
    return definePolicy({
      origin: source,
      rules,
      flags,
      ...(argumentWidth !== undefined ? { argumentWidth } : {}),
      ...(routes !== undefined ? { routes } : {}),
      ...(network !== undefined ? { network } : {}),
      ...(audit !== undefined ? { audit } : {}),
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
  return parsePolicyJson(readInputText(path, "policy"), path);
}
