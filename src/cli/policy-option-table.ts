/**
 * The policy options every policy-taking command shares, as data: their
 * names, the attribute commander gives each, how it takes values, and
 * whether the value names a file whose content shapes the policy. The
 * commands register them with their own help (policy-options.ts; `diff`
 * once per side), and `run`'s launch cache keys on them (run-cache.ts, and
 * the same list in native/cached-run.c; a test compares them). No imports:
 * the cached fast path loads this.
 */
import type { PolicyOptionValues } from "./policy-options.js";

export interface PolicyOptionSpec {
  /** The long option without its dashes. */
  readonly name: string;
  readonly attr: keyof PolicyOptionValues;
  /** One value (the last wins), a repeatable value, or a flag. */
  readonly kind: "value" | "list" | "flag";
  /** The value is a file the policy is read from. */
  readonly file: boolean;
}

export const POLICY_OPTIONS = [
  { name: "policy", attr: "policy", kind: "value", file: true },
  { name: "system-call-filter", attr: "systemCallFilter", kind: "list", file: false },
  { name: "capability", attr: "capability", kind: "list", file: false },
  { name: "drop-capability", attr: "dropCapability", kind: "list", file: false },
  { name: "private-network", attr: "privateNetwork", kind: "flag", file: false },
  { name: "settings", attr: "settings", kind: "value", file: true },
  { name: "property", attr: "property", kind: "list", file: false },
  { name: "unit", attr: "unit", kind: "value", file: true },
  { name: "arch", attr: "arch", kind: "value", file: false },
  { name: "profile", attr: "profile", kind: "value", file: true },
  { name: "kernel", attr: "kernel", kind: "value", file: false },
  { name: "host-arch", attr: "hostArch", kind: "value", file: false },
  { name: "argument-width", attr: "argumentWidth", kind: "value", file: false },
  { name: "routes", attr: "routes", kind: "value", file: false },
  { name: "deny-network", attr: "denyNetwork", kind: "flag", file: false },
] as const satisfies readonly PolicyOptionSpec[];

export type PolicyOptionName = (typeof POLICY_OPTIONS)[number]["name"];
