#!/usr/bin/env python3
"""Fails when a lower layer of HeapDiffKit uses a type of a higher one.

The Kit's layers are its folders (docs/ARCHITECTURE.md), bottom to top in
LAYERS; a file may use what its own layer and the layers below declare,
never what a layer above declares. The check maps every top-level type,
protocol, typealias and function each layer declares (not private ones),
then looks for their names in the code of every lower layer's files, with
comments and string literals left out. A folder that is not a layer, or a
Swift file at the Kit's top level, fails too, so that the layout cannot
drift from the list.

    scripts/check-layers.py [KIT_DIRECTORY]      (default Sources/HeapDiffKit)
"""
import os
import re
import sys

LAYERS = ["Support", "Format", "Symbols", "Attribution", "Statistics", "Series", "Analyses", "Output"]

DECLARATION = re.compile(
    r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:public\s+|internal\s+|package\s+)?(?:final\s+)?"
    r"(?:struct|enum|class|protocol|actor|typealias|func)\s+([A-Za-z_]\w*)")
STRING = re.compile(r'"(?:\\.|[^"\\])*"')
IDENTIFIER = re.compile(r"(?<![\w.])([A-Z]\w*)")


def code_lines(text):
    """The file's lines with comments and string literals blanked out."""
    in_block_string = False
    in_block_comment = False
    for number, line in enumerate(text.split("\n"), 1):
        if in_block_string:
            if '"""' in line:
                in_block_string = False
            continue
        if in_block_comment:
            if "*/" in line:
                in_block_comment = False
                line = line.split("*/", 1)[1]
            else:
                continue
        if line.count('"""') == 1:
            in_block_string = True
            line = line.split('"""', 1)[0]
        line = STRING.sub('""', line)
        if "/*" in line and "*/" not in line.split("/*", 1)[1]:
            in_block_comment = True
            line = line.split("/*", 1)[0]
        line = re.sub(r"/\*.*?\*/", "", line)
        line = line.split("//", 1)[0]
        yield number, line


def check(kit):
    """Every way `kit` breaks the layering, one line each."""
    problems = []
    files = {}  # path -> layer index
    for root, _, names in os.walk(kit):
        for name in sorted(names):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(root, name)
            parts = os.path.relpath(path, kit).split(os.sep)
            if len(parts) == 1:
                problems.append(f"{path}: a Swift file at the Kit's top level; put it in a layer folder ({', '.join(LAYERS)})")
            elif parts[0] not in LAYERS:
                problems.append(f"{path}: {parts[0]}/ is not a layer; add it to LAYERS in {sys.argv[0]} and to docs/ARCHITECTURE.md")
            else:
                files[path] = LAYERS.index(parts[0])

    declared = {}  # name -> (layer index, path)
    texts = {}
    for path, layer in files.items():
        with open(path, encoding="utf-8") as handle:
            texts[path] = handle.read()
        for _, line in code_lines(texts[path]):
            match = DECLARATION.match(line)
            if match:
                name = match.group(1)
                if name in declared and declared[name][0] != layer:
                    problems.append(f"{path}: {name} is also declared in {declared[name][1]}")
                declared.setdefault(name, (layer, path))

    for path, layer in sorted(files.items()):
        for number, line in code_lines(texts[path]):
            for name in IDENTIFIER.findall(line):
                owner = declared.get(name)
                if owner and owner[0] > layer:
                    problems.append(
                        f"{path}:{number}: {LAYERS[layer]} uses {name} from {LAYERS[owner[0]]} "
                        f"({owner[1]}), a higher layer")

    return problems, len(files)


def self_test():
    """The check run on a made-up Kit, clean and then broken three ways, so
    that `make test` shows it can fail."""
    import tempfile
    sources = {
        "Format/Reader.swift": "public struct Reader {}\n",
        "Output/Report.swift": "/// Prints a Reader.\npublic enum Report { static let r = Reader() }\n",
    }
    broken = {
        "Format/Uses.swift": 'struct Uses { let r: Report; let s = "Report" } // Report\n',
        "Loose.swift": "struct Loose {}\n",
        "Misc/Other.swift": "struct Other {}\n",
    }
    with tempfile.TemporaryDirectory() as kit:
        def write(files):
            for name, text in files.items():
                os.makedirs(os.path.join(kit, os.path.dirname(name)), exist_ok=True)
                with open(os.path.join(kit, name), "w", encoding="utf-8") as handle:
                    handle.write(text)
        write(sources)
        clean, _ = check(kit)
        write(broken)
        found, _ = check(kit)
    expected = ["Uses.swift:1: Format uses Report from Output", "Loose.swift: a Swift file at the Kit's top level",
                "Misc/Other.swift: Misc/ is not a layer"]
    missing = [text for text in expected if not any(text in problem for problem in found)]
    if clean or missing or len(found) != len(expected):
        print(f"check-layers: self-test failed: clean Kit gave {clean}, broken Kit gave {found}", file=sys.stderr)
        return False
    return True


def main():
    if not self_test():
        return 1
    kit = sys.argv[1] if len(sys.argv) > 1 else "Sources/HeapDiffKit"
    problems, count = check(kit)
    for problem in problems:
        print(f"check-layers: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check-layers: {count} files in {len(LAYERS)} layers, every use points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
