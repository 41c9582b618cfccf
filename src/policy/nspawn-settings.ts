/**
 * `.nspawn` settings files (systemd.nspawn(5)) as {@link NspawnOptions}: the
 * keys that shape systemd-nspawn's syscall filter, and how they merge with
 * the command line.
 *
 * - `[Exec] SystemCallFilter=` — the same list syntax as
 *   `--system-call-filter=` (a leading `~` makes the whole value a deny list);
 *   repeated assignments add lists; an empty value adds nothing.
 * - `[Exec] Capability=`, `DropCapability=` — space-separated capability
 *   names (`CAP_` optional, any case) or `all`; repeated assignments add.
 * - `[Network] Private=` — a boolean (systemd's spellings: 1/yes/y/true/t/on,
 *   0/no/n/false/f/off, any case); adds CAP_NET_ADMIN.
 * - `[Network] VirtualEthernet=yes`, `VirtualEthernetExtra=`, `Interface=`,
 *   `MACVLAN=`, `IPVLAN=`, `Bridge=`, `Zone=` imply a private network, as
 *   their command-line twins imply `--private-network`; they get a warning
 *   since their other effects are not modelled.
 *
 * Every other key and section is reported in `warnings` (by name and
 * `file:line`) and otherwise ignored. The file is treated as trusted (you
 * named it): nspawn ignores `Capability=` and allow-list `SystemCallFilter=`
 * only in untrusted files found next to an image.
 */
import { readInputText } from "../read-file.js";
import { CAPABILITY_NAMES, parseCapability } from "../abi/capabilities.js";
import { SyscageError , withContext } from "../errors.js";
import { parseIni } from "./ini.js";
import { parseSystemCallFilterOption, type NspawnOptions } from "./nspawn.js";

/** What a `.nspawn` file contributes, and notes about what it left out. */
export interface NspawnSettings {
  /** Only the fields the file sets are present (no `abis`). */
  readonly options: NspawnOptions;
  readonly warnings: readonly string[];
}

const TRUE = new Set(["1", "yes", "y", "true", "t", "on"]);
const FALSE = new Set(["0", "no", "n", "false", "f", "off"]);

/**
 * systemd's parse_boolean(): 1/yes/y/true/t/on and 0/no/n/false/f/off, any case.
 * @throws SyscageError BAD_BOOLEAN naming `where`.
 */
export function parseSystemdBoolean(value: string, where: string): boolean {
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  throw new SyscageError("BAD_BOOLEAN", `${where}: "${value}" is not a boolean; write yes or no (also 1/0, true/false, on/off)`);
}

/** Keys that imply a private network; booleans are marked. */
const IMPLY_PRIVATE: ReadonlyMap<string, "boolean" | "list"> = new Map([
  ["VirtualEthernet", "boolean"],
  ["VirtualEthernetExtra", "list"],
  ["Interface", "list"],
  ["MACVLAN", "list"],
  ["IPVLAN", "list"],
  ["Bridge", "list"],
  ["Zone", "list"],
]);

/**
 * Parse `.nspawn` text (see the module doc). `source` names the text in
 * messages (usually the file name).
 * @throws SyscageError with `source:line`: INI_SYNTAX, BAD_BOOLEAN,
 *   UNKNOWN_CAPABILITY, and the errors of parseSystemCallFilterOption
 *   (unknown syscall or group, misplaced `~`).
 */
export function parseNspawnSettings(text: string, source: string): NspawnSettings {
  const ini = parseIni(text, source);
  const warnings: string[] = [];
  if (text.trim() === "") warnings.push(`${source}: the file is empty; nspawn's defaults apply`);
  const systemCallFilter: string[] = [];
  const capability: string[] = [];
  const dropCapability: string[] = [];
  let privateNetwork: boolean | undefined;
  let implied: string | undefined;

  const capabilities = (value: string, where: string, key: string): string[] => {
    const out: string[] = [];
    for (const word of value.split(/\s+/).filter((w) => w !== "")) {
      if (word.includes(",")) {
        throw new SyscageError("UNKNOWN_CAPABILITY", `${where}: ${key}= "${word}": the list is space-separated in .nspawn files; write ${word.split(",").filter((w) => w !== "").join(" ")}`);
      }
      if (word.toLowerCase() !== "all") {
        try {
          parseCapability(word);
        } catch (e) {
          withContext(e, `${where}: ${key}= `);
        }
      }
      out.push(word);
    }
    return out;
  };

  for (const a of ini.assignments) {
    const id = `[${a.section}] ${a.key}=`;
    if (a.section === "Exec" && a.key === "SystemCallFilter") {
      parseSystemCallFilterOption(a.value, `${a.where}: SystemCallFilter=`);
      if (a.value.trim() !== "") systemCallFilter.push(a.value.trim());
    } else if (a.section === "Exec" && a.key === "Capability") {
      capability.push(...capabilities(a.value, a.where, a.key));
    } else if (a.section === "Exec" && a.key === "DropCapability") {
      dropCapability.push(...capabilities(a.value, a.where, a.key));
    } else if (a.section === "Network" && a.key === "Private") {
      privateNetwork = parseSystemdBoolean(a.value, `${a.where}: Private=`);
    } else if (a.section === "Network" && IMPLY_PRIVATE.has(a.key)) {
      const on = IMPLY_PRIVATE.get(a.key) === "boolean" ? parseSystemdBoolean(a.value, `${a.where}: ${a.key}=`) : a.value.trim() !== "";
      if (on) {
        implied ??= a.key;
        warnings.push(`${a.where}: ${id} implies a private network (CAP_NET_ADMIN), as in systemd-nspawn; its other effects are not modelled`);
      } else {
        warnings.push(`${a.where}: ${id} is not about the syscall filter; ignored`);
      }
    } else if (["Exec", "Files", "Network"].includes(a.section)) {
      warnings.push(`${a.where}: ${id} is not about the syscall filter; ignored`);
    } else {
      warnings.push(`${a.where}: ${id}: unknown section [${a.section}] (.nspawn files have [Exec], [Files], [Network]); ignored`);
    }
  }
  const options: {
    -readonly [K in keyof NspawnOptions]: NspawnOptions[K];
  } = {};
  if (systemCallFilter.length > 0) options.systemCallFilter = systemCallFilter;
  if (capability.length > 0) options.capability = capability;
  if (dropCapability.length > 0) options.dropCapability = dropCapability;
  if (privateNetwork !== undefined || implied !== undefined) options.privateNetwork = privateNetwork === true || implied !== undefined;
  return { options, warnings };
}

/** Read and parse a `.nspawn` file (see {@link parseNspawnSettings}); file-system errors are thrown as they come. */
export function readNspawnSettings(path: string): NspawnSettings {
  return parseNspawnSettings(readInputText(path, "unit"), path);
}

/**
 * Merge a settings file's options with the command line's, as nspawn does:
 * - any `--system-call-filter` (even an empty one) replaces the file's
 *   `SystemCallFilter=` entirely (nspawn's SETTING_SYSCALL_FILTER);
 * - any `--capability` or `--drop-capability` replaces the file's
 *   `Capability=` and `DropCapability=` together (SETTING_CAPABILITY);
 *   otherwise the file's are used (it is trusted);
 * - `--private-network` replaces the file's network setting (SETTING_NETWORK).
 * `abis` always come from the command line. Each ignored file setting is
 * noted in `warnings`.
 */
export function mergeNspawnOptions(file: NspawnSettings, cli: NspawnOptions, source: string): { options: NspawnOptions; warnings: string[] } {
  const f = file.options;
  const warnings: string[] = [];
  const cliFilter = cli.systemCallFilter !== undefined && cli.systemCallFilter.length > 0;
  const cliCaps = (cli.capability?.length ?? 0) > 0 || (cli.dropCapability?.length ?? 0) > 0;
  const cliNet = cli.privateNetwork === true;
  if (cliFilter && f.systemCallFilter !== undefined) {
    warnings.push(`${source}: SystemCallFilter= is ignored because --system-call-filter is given (the command line overrides the file, as in systemd-nspawn)`);
  }
  if (cliCaps && (f.capability !== undefined || f.dropCapability !== undefined)) {
    warnings.push(`${source}: Capability=/DropCapability= are ignored because --capability/--drop-capability is given (the command line overrides the file, as in systemd-nspawn)`);
  }
  const systemCallFilter = cliFilter ? cli.systemCallFilter : f.systemCallFilter;
  const capability = cliCaps ? cli.capability : f.capability;
  const dropCapability = cliCaps ? cli.dropCapability : f.dropCapability;
  const privateNetwork = cliNet ? true : f.privateNetwork;
  return {
    options: {
      ...(systemCallFilter !== undefined ? { systemCallFilter } : {}),
      ...(capability !== undefined ? { capability } : {}),
      ...(dropCapability !== undefined ? { dropCapability } : {}),
      ...(privateNetwork !== undefined ? { privateNetwork } : {}),
      ...(cli.abis !== undefined ? { abis: cli.abis } : {}),
    },
    warnings,
  };
}

/** Every capability name, for `--capability=help`. */
export function capabilityHelp(): readonly string[] {
  return CAPABILITY_NAMES;
}
