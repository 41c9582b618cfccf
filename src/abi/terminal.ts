/**
 * The terminal ioctls that push input into a terminal or act on the console:
 * TIOCSTI ("simulate terminal input") and TIOCLINUX (virtual-console
 * commands, among them pasting the selection). A sandboxed program that
 * shares its caller's terminal could use them to type commands into the
 * caller's shell after it exits (CVE-2017-5226 for bubblewrap, CVE-2016-7545
 * for SELinux sandbox). Values per ABI from arch/ * /include/uapi/asm/ioctls.h
 * (asm-generic where an architecture has none of its own).
 */
import type { AbiName } from "./arch.js";

export interface TerminalIoctls {
  readonly TIOCSTI: number;
  readonly TIOCLINUX: number;
}

const GENERIC: TerminalIoctls = Object.freeze({ TIOCSTI: 0x5412, TIOCLINUX: 0x541c });
/** MIPS numbers its tty ioctls its own way. */
const MIPS: TerminalIoctls = Object.freeze({ TIOCSTI: 0x5472, TIOCLINUX: 0x5483 });
/** SuperH encodes them with _IOW('T', n, char). */
const SH: TerminalIoctls = Object.freeze({ TIOCSTI: 0x40015412, TIOCLINUX: 0x4001541c });

/** The two ioctl command numbers on `abi`. */
export function terminalIoctls(abi: AbiName): TerminalIoctls {
  if (abi.startsWith("mips")) return MIPS;
  if (abi === "sh" || abi === "sheb") return SH;
  return GENERIC;
}
