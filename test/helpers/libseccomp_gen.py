"""Test oracle: build seccomp filters with the real libseccomp (Debian python3-seccomp).

Reads a JSON list of filter specs on stdin and writes a JSON list of results:
  spec = {"default": ACTION, "badarch": ACTION?, "arches": ["x86_64", ...],
          "optimize": 1|2?, "rules": [{"syscall": NAME, "action": ACTION,
          "args": [{"arg": I, "op": "EQ"|..|"MASKED_EQ", "value": "DEC", "mask": "DEC"?}]}]}
  ACTION = "ALLOW" | "KILL_THREAD" | "KILL_PROCESS" | "TRAP" | "LOG" | "NOTIFY"
           | {"ERRNO": N} | {"TRACE": N}
  result = {"bpf": HEX, "numbers": {ARCH: {NAME: NR or null}}, "errors": [STR]}
numbers are libseccomp's own resolution of each rule's name on each arch.
A request {"resolve": [NAME...], "arches": [ARCH...]} instead returns
{ARCH: {NAME: NR or null}}.
"""
import json
import os
import sys
import tempfile

import seccomp

ARCH = {
    "x86": seccomp.Arch.X86, "x86_64": seccomp.Arch.X86_64, "x32": seccomp.Arch.X32,
    "arm": seccomp.Arch.ARM, "aarch64": seccomp.Arch.AARCH64,
    "mips": seccomp.Arch.MIPS, "mipsel": seccomp.Arch.MIPSEL,
    "mips64": seccomp.Arch.MIPS64, "mipsel64": seccomp.Arch.MIPSEL64,
    "mips64n32": seccomp.Arch.MIPS64N32, "mipsel64n32": seccomp.Arch.MIPSEL64N32,
    "parisc": seccomp.Arch.PARISC, "parisc64": seccomp.Arch.PARISC64,
    "ppc": seccomp.Arch.PPC, "ppc64": seccomp.Arch.PPC64, "ppc64le": seccomp.Arch.PPC64LE,
    "s390": seccomp.Arch.S390, "s390x": seccomp.Arch.S390X, "riscv64": seccomp.Arch.RISCV64,
}
OPS = {"EQ": seccomp.EQ, "NE": seccomp.NE, "LT": seccomp.LT, "LE": seccomp.LE,
       "GT": seccomp.GT, "GE": seccomp.GE, "MASKED_EQ": seccomp.MASKED_EQ}


def action(a):
    if isinstance(a, dict):
        (k, v), = a.items()
        return {"ERRNO": seccomp.ERRNO, "TRACE": seccomp.TRACE}[k](int(v))
    return {"ALLOW": seccomp.ALLOW, "KILL_THREAD": seccomp.KILL, "KILL_PROCESS": seccomp.KILL_PROCESS,
            "TRAP": seccomp.TRAP, "LOG": seccomp.LOG, "NOTIFY": seccomp.NOTIFY}[a]


def build(spec, remove_native_first=False, resolve_numbers=True):
    """One filter. remove_native_first drops the native arch before adding the
    requested ones (needed when they have another byte order: libseccomp
    refuses to mix byte orders in one filter); resolve_numbers fills
    "numbers" (otherwise each arch maps to {})."""
    errors = []
    f = seccomp.SyscallFilter(action(spec["default"]))
    if "badarch" in spec:
        f.set_attr(seccomp.Attr.ACT_BADARCH, action(spec["badarch"]))
    if "optimize" in spec:
        f.set_attr(seccomp.Attr.CTL_OPTIMIZE, int(spec["optimize"]))
    arches = [ARCH[a] for a in spec["arches"]]
    # system_arch() is unsigned while Arch values are signed in this binding.
    native = next(v for v in ARCH.values() if int(v) & 0xFFFFFFFF == seccomp.system_arch())
    if remove_native_first and native not in arches:
        f.remove_arch(native)
    for a in arches:
        if not f.exist_arch(a):
            f.add_arch(a)
    if not remove_native_first and native not in arches:
        f.remove_arch(native)
    numbers = {name: {} for name in spec["arches"]}
    for r in spec["rules"]:
        name = r["syscall"]
        if resolve_numbers:
            for an in spec["arches"]:
                try:
                    nr = seccomp.resolve_syscall(ARCH[an], name)
                    numbers[an][name] = nr if nr >= 0 else None
                except Exception:
                    numbers[an][name] = None
        args = []
        for c in r.get("args", []):
            if c["op"] == "MASKED_EQ":
                args.append(seccomp.Arg(int(c["arg"]), OPS["MASKED_EQ"], int(c["mask"]), int(c["value"])))
            else:
                args.append(seccomp.Arg(int(c["arg"]), OPS[c["op"]], int(c["value"])))
        try:
            f.add_rule(action(r["action"]), name, *args)
        except Exception as e:  # report, never hide
            errors.append("%s: %s" % (name, e))
    fd, path = tempfile.mkstemp()
    try:
        with os.fdopen(fd, "wb") as out:
            f.export_bpf(out)
        with open(path, "rb") as inp:
            data = inp.read()
    finally:
        os.unlink(path)
    return {"bpf": data.hex(), "numbers": numbers, "errors": errors}


def resolve(names, arches):
    """{"resolve": [NAME...], "arches": [ARCH...]} -> {ARCH: {NAME: NR or null}}."""
    out = {}
    for an in arches:
        out[an] = {}
        for name in names:
            try:
                nr = seccomp.resolve_syscall(ARCH[an], name)
            except Exception:
                nr = -1
            out[an][name] = nr if nr >= 0 else None
    return out


def main():
    req = json.load(sys.stdin)
    if isinstance(req, dict) and "resolve" in req:
        json.dump(resolve(req["resolve"], req["arches"]), sys.stdout)
    else:
        json.dump([build(s) for s in req], sys.stdout)


if __name__ == "__main__":
    main()
