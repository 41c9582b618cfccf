/**
 * `--profile FILE` of the shared policy options (policy-options.ts): a
 * container seccomp profile (OCI `linux.seccomp` or a whole config.json,
 * Docker/moby, Podman) imported with the condition inputs
 *
 * - `--capability LIST` / `--drop-capability LIST`: added to / removed from
 *   Docker's default container capabilities (like `docker run --cap-add /
 *   --cap-drop`; `all` means every capability; drop wins);
 * - `--kernel VERSION`: the host kernel for `minKernel` (default: `uname -r`);
 * - `--host-arch ARCH`: the host for `archMap` and `arches` (default: this machine).
 *
 * `--arch LIST` then replaces the ABIs, as for `--policy`.
 */
import { readInputText } from "../read-file.js";
import type { AbiName } from "../abi/arch.js";
import { CAPABILITY_NAMES, capabilityName, parseCapability } from "../abi/capabilities.js";
import { profileEntries, type ExplainContext } from "../analyze/explain.js";
import { SyscageError , withContext } from "../errors.js";
import { DOCKER_DEFAULT_CAPABILITIES, readProfileFile } from "../policy/oci.js";
import type { LoadedPolicy, PolicyOptionValues } from "./policy-options.js";

/** The option values `--profile` reads (a subset of the policy options). */
export interface ProfileOptionValues {
  profile?: string;
  kernel?: string;
  hostArch?: string;
  capability?: string[];
  dropCapability?: string[];
}

function capList(values: readonly string[] | undefined, option: string): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    for (const item of v.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
      if (item.toLowerCase() === "all") out.push(...CAPABILITY_NAMES);
      else {
        try {
          out.push(capabilityName(parseCapability(item))!);
        } catch (err) {
          withContext(err, `${option}: `);
        }
      }
    }
  }
  return out;
}

/** The capability set of a container: Docker's defaults + `--capability` − `--drop-capability`. */
export function profileCapabilities(add: readonly string[] | undefined, drop: readonly string[] | undefined): string[] {
  const set = new Set<string>([...DOCKER_DEFAULT_CAPABILITIES, ...capList(add, "--capability")]);
  for (const c of capList(drop, "--drop-capability")) set.delete(c);
  return CAPABILITY_NAMES.filter((c) => set.has(c));
}

/**
 * The policy of `--profile FILE` (see the module doc). `others` are the
 * policy options given that cannot go with a profile.
 * @throws SyscageError BAD_USAGE for a wrong combination, and the importer's errors.
 */
export function loadProfilePolicy(opts: PolicyOptionValues & ProfileOptionValues, abis: readonly AbiName[] | undefined, others: readonly string[]): LoadedPolicy {
  if (opts.profile === undefined) {
    const used = [...(opts.kernel !== undefined ? ["--kernel"] : []), ...(opts.hostArch !== undefined ? ["--host-arch"] : [])];
    throw new SyscageError("BAD_USAGE", `${used.join(" and ")} only apply to a container profile; add --profile FILE`);
  }
  const clash = [...(opts.policy !== undefined ? ["--policy"] : []), ...others];
  if (clash.length > 0) {
    throw new SyscageError(
      "BAD_USAGE",
      `--profile cannot be combined with ${clash.join(", ")}: a container profile is complete on its own (only --capability, --drop-capability, --kernel, --host-arch and --arch apply to it)`,
    );
  }
  const imported = readProfileFile(opts.profile, {
    capabilities: profileCapabilities(opts.capability, opts.dropCapability),
    ...(opts.kernel !== undefined ? { kernel: opts.kernel } : {}),
    ...(opts.hostArch !== undefined ? { hostArch: opts.hostArch } : {}),
  });
  const policy = abis !== undefined ? { ...imported.policy, abis: [...abis] } : imported.policy;
  return { policy, warnings: [...imported.warnings], source: opts.profile };
}

/**
 * What `explain` and `report` tell the analysis about where the loaded policy
 * came from: its nspawn options, and for `--profile FILE` the profile's
 * entries and the container's capabilities.
 */
export function explainContext(loaded: LoadedPolicy, opts: ProfileOptionValues): ExplainContext {
  return {
    ...(loaded.nspawn !== undefined ? { nspawn: loaded.nspawn } : {}),
    ...(opts.profile !== undefined
      ? {
          profile: {
            source: opts.profile,
            entries: profileEntries(readInputText(opts.profile, "profile")),
            capabilities: profileCapabilities(opts.capability, opts.dropCapability),
          },
        }
      : {}),
  };
}
