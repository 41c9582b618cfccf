/**
 * Landlock's access rights as data (uapi/linux/landlock.h): each right's bit,
 * the ABI version that added it and the Linux release of that ABI. The
 * sandbox planner (run/sandbox.ts) maps `--allow-read/-write/-exec`,
 * `--allow-connect/-bind` and `--scope` onto these; docs/run.md has the table.
 */

/** The newest Landlock ABI syscage knows (Linux 6.15). */
export const LANDLOCK_ABI_KNOWN = 7;

export interface LandlockRight {
  /** Our name, as in the kernel's constant without its prefix, lower case. */
  readonly name: string;
  readonly bit: bigint;
  /** The ABI version that added it. */
  readonly abi: number;
}

/** LANDLOCK_ACCESS_FS_*: file-system rights (ruleset `handled_access_fs`). */
export const LANDLOCK_FS_RIGHTS: readonly LandlockRight[] = [
  { name: "execute", bit: 1n << 0n, abi: 1 },
  { name: "write_file", bit: 1n << 1n, abi: 1 },
  { name: "read_file", bit: 1n << 2n, abi: 1 },
  { name: "read_dir", bit: 1n << 3n, abi: 1 },
  { name: "remove_dir", bit: 1n << 4n, abi: 1 },
  { name: "remove_file", bit: 1n << 5n, abi: 1 },
  { name: "make_char", bit: 1n << 6n, abi: 1 },
  { name: "make_dir", bit: 1n << 7n, abi: 1 },
  { name: "make_reg", bit: 1n << 8n, abi: 1 },
  { name: "make_sock", bit: 1n << 9n, abi: 1 },
  { name: "make_fifo", bit: 1n << 10n, abi: 1 },
  { name: "make_block", bit: 1n << 11n, abi: 1 },
  { name: "make_sym", bit: 1n << 12n, abi: 1 },
  { name: "refer", bit: 1n << 13n, abi: 2 },
  { name: "truncate", bit: 1n << 14n, abi: 3 },
  { name: "ioctl_dev", bit: 1n << 15n, abi: 5 },
];

/** LANDLOCK_ACCESS_NET_*: TCP rights (ruleset `handled_access_net`, ABI 4). */
export const LANDLOCK_NET_RIGHTS: readonly LandlockRight[] = [
  { name: "bind_tcp", bit: 1n << 0n, abi: 4 },
  { name: "connect_tcp", bit: 1n << 1n, abi: 4 },
];

/** LANDLOCK_SCOPE_*: IPC scopes (ruleset `scoped`, ABI 6). */
export const LANDLOCK_SCOPES: readonly LandlockRight[] = [
  { name: "abstract_unix_socket", bit: 1n << 0n, abi: 6 },
  { name: "signal", bit: 1n << 1n, abi: 6 },
];

/** The Linux release that brought each ABI version. */
export const LANDLOCK_ABI_RELEASE: Readonly<Record<number, string>> = { 1: "5.13", 2: "5.19", 3: "6.2", 4: "6.7", 5: "6.10", 6: "6.12", 7: "6.15" };

/** Rights that a rule on a file (not a directory) may carry; the kernel refuses the others there. */
export const LANDLOCK_FILE_RIGHTS = (1n << 0n) | (1n << 1n) | (1n << 2n) | (1n << 14n) | (1n << 15n);

/** The rights of `table` known at ABI `abi`, as a mask. */
export function rightsAt(table: readonly LandlockRight[], abi: number): bigint {
  return table.filter((r) => r.abi <= abi).reduce((m, r) => m | r.bit, 0n);
}

/** The names of the rights in `mask`. */
export function rightNames(table: readonly LandlockRight[], mask: bigint): string[] {
  return table.filter((r) => (mask & r.bit) !== 0n).map((r) => r.name);
}

/** The lowest ABI that knows every right in `mask` (0 for none). */
export function abiFor(table: readonly LandlockRight[], mask: bigint): number {
  return table.filter((r) => (mask & r.bit) !== 0n).reduce((a, r) => Math.max(a, r.abi), 0);
}
