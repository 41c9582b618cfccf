/**
 * Kubernetes `SeccompProfile` documents (the Security Profiles Operator's
 * CRD, `security-profiles-operator.x-k8s.io/v1beta1`) as profile sources:
 * single or multi-document YAML, the kind `syscage convert --to spo` writes.
 * The document's `spec` is an OCI-style seccomp object; it is turned into
 * JSON text, one line per YAML line it came from, and read by the profile
 * importer (oci.ts), so every message names the YAML file and its line.
 */
import { SyscageError } from "../errors.js";
import { yamlModule } from "../deps.js";

/** Does `text` look like YAML with a SeccompProfile in it (rather than JSON)? */
export function looksLikeSpoYaml(text: string): boolean {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return !/^\s*[{[]/.test(body) && /^\s*kind:\s*["']?SeccompProfile["']?\s*$/m.test(body);
}

/** The spec of the one SeccompProfile in `text`, as JSON text, with the YAML line of each JSON line. */
export interface SpoSpec {
  readonly name: string;
  readonly json: string;
  /** YAML line (1-based) of each JSON line (index = JSON line - 1). */
  readonly lines: readonly number[];
}

type YamlNode = import("yaml").Node;

/** A SeccompProfile's `spec` as JSON text (see the module doc); throws PROFILE_SYNTAX naming the line. */
export function spoSpec(text: string, source: string): SpoSpec {
  const Y = yamlModule();
  const counter = new Y.LineCounter();
  const docs = Y.parseAllDocuments(text, { lineCounter: counter, intAsBigInt: true, uniqueKeys: true });
  const lineOf = (offset: number | undefined): number => counter.linePos(offset ?? 0).line;
  const list = Array.isArray(docs) ? docs : [];
  for (const d of list) {
    const e = d.errors[0];
    if (e !== undefined) throw new SyscageError("PROFILE_SYNTAX", `${source}:${lineOf(e.pos[0])}: YAML syntax error: ${e.message.split("\n")[0]}`);
  }
  const profiles = list.filter((d) => Y.isMap(d.contents) && d.get("kind") === "SeccompProfile");
  if (profiles.length === 0) throw new SyscageError("PROFILE_SYNTAX", `${source}:1: no document of kind SeccompProfile (a Security Profiles Operator profile has "kind: SeccompProfile" and a "spec")`);
  const nameOf = (d: (typeof profiles)[number]): string => String(d.getIn(["metadata", "name"]) ?? "(no name)");
  if (profiles.length > 1) {
    throw new SyscageError("PROFILE_SYNTAX", `${source}: ${profiles.length} SeccompProfile documents (${profiles.map(nameOf).join(", ")}); syscage reads one profile per file: split them`);
  }
  const doc = profiles[0]!;
  const spec = doc.get("spec", true) as YamlNode | undefined;
  const docLine = lineOf(doc.contents?.range?.[0]);
  if (spec === undefined || !Y.isMap(spec)) throw new SyscageError("PROFILE_SCHEMA", `${source}:${docLine}: the SeccompProfile ${nameOf(doc)} has no "spec" mapping (spec.defaultAction, spec.syscalls, …)`);
  const out: string[] = [];
  const lines: number[] = [];
  const emit = (indent: number, text: string, node: YamlNode | undefined | null): void => {
    out.push(`${"  ".repeat(indent)}${text}`);
    const start = node?.range?.[0];
    lines.push(start !== undefined ? lineOf(start) : (lines[lines.length - 1] ?? docLine));
  };
  const scalar = (n: YamlNode): string => {
    if (!Y.isScalar(n)) return "null";
    const v = n.value;
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "number") return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
    if (v === null || v === undefined) return "null";
    return JSON.stringify(v);
  };
  const walk = (n: YamlNode, indent: number, prefix: string, comma: string): void => {
    if (Y.isMap(n)) {
      emit(indent, `${prefix}{`, n);
      n.items.forEach((p, i) => {
        const key = Y.isScalar(p.key) ? String(p.key.value) : String(p.key);
        const sep = i < n.items.length - 1 ? "," : "";
        const value = p.value as YamlNode | null;
        if (value === null || value === undefined) emit(indent + 1, `${JSON.stringify(key)}: null${sep}`, p.key as YamlNode);
        else walk(value, indent + 1, `${JSON.stringify(key)}: `, sep);
      });
      emit(indent, `}${comma}`, n);
    } else if (Y.isSeq(n)) {
      emit(indent, `${prefix}[`, n);
      n.items.forEach((item, i) => walk(item as YamlNode, indent + 1, "", i < n.items.length - 1 ? "," : ""));
      emit(indent, `]${comma}`, n);
    } else if (Y.isAlias(n)) {
      throw new SyscageError("PROFILE_SYNTAX", `${source}:${lineOf(n.range?.[0])}: YAML aliases are not supported in a SeccompProfile; write the value out`);
    } else emit(indent, `${prefix}${scalar(n)}${comma}`, n);
  };
  walk(spec, 0, "", "");
  return { name: nameOf(doc), json: out.join("\n") + "\n", lines };
}
