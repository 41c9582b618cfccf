"""Like libseccomp_gen.py (same input and output), but for filters whose ABIs
have another byte order than this machine (s390x, s390 on an x86_64 host):
libseccomp refuses to mix byte orders in one filter, so the native arch is
removed BEFORE the requested ones are added. Used by profile-libseccomp.test.ts.
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seccomp  # noqa: E402
from libseccomp_gen import ARCH, OPS, action  # noqa: E402


def build(spec):
    errors = []
    f = seccomp.SyscallFilter(action(spec["default"]))
    if "badarch" in spec:
        f.set_attr(seccomp.Attr.ACT_BADARCH, action(spec["badarch"]))
    if "optimize" in spec:
        f.set_attr(seccomp.Attr.CTL_OPTIMIZE, int(spec["optimize"]))
    arches = [ARCH[a] for a in spec["arches"]]
    native = next(v for v in ARCH.values() if int(v) & 0xFFFFFFFF == seccomp.system_arch())
    if native not in arches:
        f.remove_arch(native)
    for a in arches:
        if not f.exist_arch(a):
            f.add_arch(a)
    numbers = {name: {} for name in spec["arches"]}
    for r in spec["rules"]:
        name = r["syscall"]
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


if __name__ == "__main__":
    json.dump([build(s) for s in json.load(sys.stdin)], sys.stdout)
