#!/usr/bin/env python3
"""Writes assets/names/{fi,sv,en}_{first,last}.txt, the name gazetteer of the redact stage,
from the person providers of the Faker package (MIT licence), whose lists come from open
population statistics: Finland's DVV name data (avoindata.fi, CC BY 4.0), Sweden's
Skatteverket and ISOF name statistics, the US SSA baby names and Census surnames (public
domain), and the UK ONS. Run: pip download faker --no-deps; python3 scripts/gen_name_lists.py
faker-*.whl
"""
import ast
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "assets" / "names"
LOCALES = {"fi": ["fi_FI"], "sv": ["sv_SE"], "en": ["en_US", "en_GB"]}


def names(tree: ast.Module, prefix: str) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id.startswith(prefix):
                value = node.value
                if isinstance(value, ast.Call) and value.args:  # OrderedDict((name, w), ...)
                    value = value.args[0]
                try:
                    data = ast.literal_eval(value)
                except ValueError:
                    continue
                for item in data:
                    name = item[0] if isinstance(item, tuple) else item
                    if isinstance(name, str) and name[:1].isupper() and len(name) >= 2:
                        out.add(name)
    return out


def main(wheel: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        for lang, locales in LOCALES.items():
            first: set[str] = set()
            last: set[str] = set()
            for loc in locales:
                src = z.read(f"faker/providers/person/{loc}/__init__.py").decode()
                tree = ast.parse(src)
                first |= names(tree, "first_names")
                last |= names(tree, "last_names")
            (OUT / f"{lang}_first.txt").write_text("\n".join(sorted(first)) + "\n")
            (OUT / f"{lang}_last.txt").write_text("\n".join(sorted(last)) + "\n")
            print(lang, len(first), "first names,", len(last), "surnames")


if __name__ == "__main__":
    main(sys.argv[1])
