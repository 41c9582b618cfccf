/**
 * syscage/analyze: what a policy or a program decides and how two relate —
 * explain, diff, prove (a program ≡ a policy), the policy algebra (within,
 * intersect, union), the read-back check of an export, statistics, and
 * the audit (what is dangerous in a filter, with a score; docs/audit.md).
 */
export { explain, formatArg, type Explanation, type ExplainQuery, type ExplainContext, type AbiExplanation } from "./explain.js";
export { diffPolicies, type DiffSide, type PolicyDiff, type AbiDiff, type SyscallDifference } from "./diff.js";
export { checkExport, readBackExport, type ExportCheck } from "./roundtrip.js";
export { prove, policyReference, type ProveOptions, type ProveResult, type ProveReference, type Counterexample } from "./prove.js";
export {
  within,
  intersect,
  union,
  merge,
  proveMerge,
  atLeastAsStrict,
  strictnessKey,
  type MergeKind,
  type MergeProof,
  type MergeFailure,
  type ProgramSource,
  type RelationSource,
  type RelationCall,
  type SideValue,
  type WithinDifference,
  type WithinOptions,
  type WithinResult,
} from "./relations.js";
export { auditPolicy, auditPrograms, parseHostKernel, type AuditFinding, type AuditOptions, type AuditResult, type AuditSourceKind } from "./audit.js";
export { AUDIT_CATALOGUE, SEVERITY_WEIGHTS, entryWeight, exposureLabel, exposureScore, type CatalogueEntry, type Severity, type Category, type Basis } from "./audit-catalogue.js";
