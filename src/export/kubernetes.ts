/** The Kubernetes side of an exported profile: where the file goes on a node and how a pod names it. */
import type { ProfileFormat } from "./formats.js";

/**
 * The Kubernetes snippet for a Localhost profile file `fileName` placed under
 * the kubelet's seccomp directory (`/var/lib/kubelet/seccomp/`); for SPO, the
 * operator's path `operator/<name>.json`.
 */
export function kubernetesSnippet(fileName: string, format: ProfileFormat, opts: { readonly name?: string } = {}): string {
  const rel = format === "spo" ? `operator/${opts.name ?? "syscage-profile"}.json` : `profiles/${fileName.replace(/^.*\//, "")}`;
  const lines = [
    format === "spo"
      ? `# Apply the SeccompProfile (kubectl apply -f ${fileName}); the operator writes it on every node to:`
      : `# Copy ${fileName} to every node that may run the pod, at:`,
    `#   /var/lib/kubelet/seccomp/${rel}`,
    `# and reference it from the pod (or a container) securityContext:`,
    `securityContext:`,
    `  seccompProfile:`,
    `    type: Localhost`,
    `    localhostProfile: ${rel}`,
  ];
  return lines.join("\n") + "\n";
}
