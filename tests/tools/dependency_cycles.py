"""tests/tools/dependency_cycles.py - run by tests/lint.sh: dependencies
between the program's C files go one way.

A file depends on another when it calls a function the other defines (not
static). A circle of such dependencies (a.c calls b.c, which calls a.c
again, directly or through others) is printed, one line per circle, and
the exit status is 1. Usage: dependency_cycles.py FILE.c...
"""

import re
import sys

COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"')
# a definition at the start of a line: a type, the name, the parameters, then the body
DEFINITION = re.compile(r"^(?!static\b)[A-Za-z_][\w \t*]*?\b(cs_\w+)\s*\([^;{]*\)\s*\{", re.M)
CALL = re.compile(r"\b(cs_\w+)\s*\(")


def code_of(path):
    with open(path, encoding="utf-8") as f:
        return STRING.sub('""', COMMENT.sub(" ", f.read()))


def graph_of(paths):
    code = {p: code_of(p) for p in paths}
    defined_in = {}
    for p, text in code.items():
        for m in DEFINITION.finditer(text):
            defined_in.setdefault(m.group(1), p)
    return {p: sorted({defined_in[n] for n in CALL.findall(text)
                       if n in defined_in and defined_in[n] != p})
            for p, text in code.items()}


def circles(graph):
    """The strongly connected parts of more than one file (Tarjan, without recursion)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, edges = work[-1]
            w = next(edges, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(graph[w])))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                part = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    part.append(w)
                    if w == v:
                        break
                if len(part) > 1:
                    found.append(sorted(part))
    return sorted(found)


def main(paths):
    found = circles(graph_of(paths))
    for part in found:
        print("dependency circle: " + " <-> ".join(part))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
