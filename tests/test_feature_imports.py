"""The import graph of the features/ modules has no cycle (issue 15): a module that needs another's
helpers imports it, never the other way round as well, whether at the top or inside a function.

The edges are pipeline/feature_cache.py's imported_feature_modules, the parse the cache key
follows; the checker is shown to find a cycle, including one closed inside a function.
"""
from pipeline.feature_cache import FEATURES_DIR, imported_feature_modules


def import_graph() -> dict[str, list[str]]:
    return {path.stem: imported_feature_modules(path.read_text()) for path in sorted(FEATURES_DIR.glob("*.py"))}


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A cycle as [a, b, ..., a], or None (depth-first search)."""
    done, path = set(), []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        for child in graph.get(node, []):
            if cycle := visit(child):
                return cycle
        path.pop()
        done.add(node)
        return None

    for node in graph:
        if cycle := visit(node):
            return cycle
    return None


def test_no_import_cycle_among_features_modules():
    graph = import_graph()
    assert {"face", "face_frames", "video", "face_pyfeat", "openface_import"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle among features/ modules: " + " -> ".join(cycle)


def test_the_face_table_module_imports_no_face_backend():
    graph = import_graph()
    backends = {"face", "face_pyfeat", "face_deep", "openface_import", "face_boaw"}
    assert not backends & set(graph["face_frames"]) and not backends & set(graph["video"])


def test_imports_inside_functions_are_edges_and_close_a_cycle():
    source = "import numpy\n\ndef f():\n    from features import face_frames, Extracted\n"
    assert imported_feature_modules(source) == ["__init__", "face_frames"]
    assert imported_feature_modules("def g():\n    import features.video\n") == ["video"]
    graph = {"face": ["face_frames"], "face_frames": ["video"], "video": ["face"]}
    assert find_cycle(graph) == ["face", "face_frames", "video", "face"]
    assert find_cycle({"face": ["face_frames"], "face_pyfeat": ["face_frames"], "face_frames": []}) is None
