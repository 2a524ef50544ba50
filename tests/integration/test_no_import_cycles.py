"""No module of plugin, webhooks or admin_ui is in an import cycle, however long.

`.importlinter`'s `acyclic_siblings` contract only sees packages that import a sibling back;
this walks grimp's module graph (the one lint-imports builds) and finds every strongly
connected component: a cycle of any length, inside a package or across packages, and a
module importing itself. Imports inside functions count, as grimp counts them; an import
made by name at run time (`importlib.import_module`) is not seen.
"""
import sys

import grimp

from tests.helpers import ROOT

PACKAGES = ("plugin", "webhooks", "admin_ui")


def import_graph() -> grimp.ImportGraph:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # grimp finds the packages through sys.path
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def components(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's strongly connected components, without recursion (each module once)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imported = work[-1]
            following = next(imported, None)
            if following is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    found.append(_pop_component(stack, on_stack, module))
            elif following not in index:
                index[following] = low[following] = len(index)
                stack.append(following)
                on_stack.add(following)
                work.append((following, iter(sorted(graph.find_modules_directly_imported_by(following)))))
            elif following in on_stack:
                low[module] = min(low[module], index[following])
    return found


def _pop_component(stack: list[str], on_stack: set[str], root: str) -> list[str]:
    component = []
    while True:
        module = stack.pop()
        on_stack.discard(module)
        component.append(module)
        if module == root:
            return sorted(component)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every component of more than one module, and every module that imports itself."""
    return [component for component in components(graph)
            if len(component) > 1 or component[0] in graph.find_modules_directly_imported_by(component[0])]


def describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    """The cycle's modules and each import between two of them, with its file line."""
    lines = [f"{len(cycle)} modules in a cycle: {', '.join(cycle)}"]
    for importer in cycle:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & set(cycle)):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"  {importer} -> {imported} (l.{detail['line_number']}: {detail['line_contents']})")
    return "\n".join(lines)


def test_no_module_is_in_an_import_cycle():
    graph = import_graph()
    assert len(graph.modules) > 100  # the packages were found, not an empty graph
    found = cycles(graph)
    assert not found, "\n\n".join(describe(graph, cycle) for cycle in found)


def test_the_check_finds_a_long_cycle_and_a_self_import():
    graph = grimp.ImportGraph()
    for importer, imported in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "e")]:
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    found = cycles(graph)
    assert found == [["a", "b", "c"], ["e"]]
    assert "  c -> a (l.1: import a)" in describe(graph, found[0]).splitlines()
