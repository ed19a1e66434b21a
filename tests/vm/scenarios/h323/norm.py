#!/usr/bin/env python3
"""Normalises the evidence of the H.323 VM scenarios.

  norm.py expect EVENTS   conntrack -E expect output without the timeout
                          column; an expectation destroyed and at once created
                          again (DESTROY X directly followed by NEW X) left
                          out: the kernel does that when a message is repeated
                          (nf_ct_expect_related() replaces its own), cthelperd
                          also when it moves an expectation that names a helper
                          from ctnetlink into the verdict (docs/kernel-path.md);
                          then each run of consecutive DESTROY lines sorted (the
                          kernel removes a master's expectations in its list
                          order, cthelperd in ctnetlink's dump order)
"""
import re
import sys


def expect(path):
    ev = []
    with open(path) as f:
        for line in f:
            m = re.match(r"^\s*\[([A-Z]+)\]\s+(?:[0-9]+\s+)?(.*?)\s*$", line)
            if m:
                ev.append((m.group(1), m.group(2)))
    kept, i = [], 0
    while i < len(ev):
        if i + 1 < len(ev) and ev[i][0] == "DESTROY" and ev[i + 1] == ("NEW", ev[i][1]):
            i += 2
            continue
        kept.append(ev[i])
        i += 1
    out, run = [], []
    for kind, rest in kept:
        if kind == "DESTROY":
            run.append(rest)
            continue
        out.extend("DESTROY " + r for r in sorted(run))
        run = []
        out.append(f"{kind} {rest}")
    out.extend("DESTROY " + r for r in sorted(run))
    return out


def main(argv):
    if len(argv) != 3 or argv[1] != "expect":
        print(__doc__, file=sys.stderr)
        return 2
    print("\n".join(expect(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
