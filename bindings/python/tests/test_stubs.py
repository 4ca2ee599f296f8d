"""The type stubs describe the native module exactly: names, kinds and parameters."""

import ast
import inspect
import pathlib

import hxb
from hxb import _native

STUB = pathlib.Path(hxb.__file__).with_name("_native.pyi")
DUNDER_OK = {"__new__"}


def stub_tree():
    return ast.parse(STUB.read_text())


def params(fn: ast.FunctionDef):
    a = fn.args
    names = [p.arg for p in a.posonlyargs + a.args]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    names += ["*" + a.vararg.arg] if a.vararg else []
    names += [p.arg for p in a.kwonlyargs]
    return names


def runtime_params(obj):
    sig = inspect.signature(obj)
    out = []
    for p in sig.parameters.values():
        if p.name in ("self", "cls", "$self", "$cls"):
            continue
        out.append(("*" + p.name) if p.kind is p.VAR_POSITIONAL else p.name)
    return out


def test_package_and_stub_files_are_shipped():
    assert STUB.exists()
    assert pathlib.Path(hxb.__file__).with_name("py.typed").exists()


def test_module_level_names_match():
    tree = stub_tree()
    stubbed = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stubbed.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            stubbed.add(node.target.id)
    stubbed -= {"Json", "Manifest"}
    public = {n for n in dir(_native) if not n.startswith("__")}
    assert stubbed == public


def test_functions_have_the_stubbed_parameters():
    for node in stub_tree().body:
        if isinstance(node, ast.FunctionDef):
            assert runtime_params(getattr(_native, node.name)) == params(node), node.name


def test_class_members_match_and_async_ones_are_coroutines():
    for cls_node in (n for n in stub_tree().body if isinstance(n, ast.ClassDef)):
        cls = getattr(_native, cls_node.name)
        runtime_names = {n for n in vars(cls) if not n.startswith("__")}
        stub_names = set()
        for fn in cls_node.body:
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            assert hasattr(cls, fn.name), f"{cls_node.name}.{fn.name} missing"
            if not fn.name.startswith("__"):
                stub_names.add(fn.name)
            decorators = {getattr(d, "id", None) for d in fn.decorator_list}
            member = getattr(cls, fn.name)
            if "property" in decorators:
                assert isinstance(inspect.getattr_static(cls, fn.name), property) or \
                    type(inspect.getattr_static(cls, fn.name)).__name__ == "getset_descriptor"
                continue
            if fn.name.startswith("__") and fn.name not in DUNDER_OK:
                continue
            if fn.name != "__new__":
                assert runtime_params(member) == params(fn), f"{cls_node.name}.{fn.name}"
        assert runtime_names == stub_names, cls_node.name


def test_async_stubs_are_awaitables_at_runtime():
    tree = stub_tree()
    engine_stub = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Engine")
    async_names = {f.name for f in engine_stub.body if isinstance(f, ast.AsyncFunctionDef)}
    assert {"create", "apply", "get", "list", "delete", "connect"} <= async_names
    coro = _native.Engine.connect("/nonexistent/kubeconfig")
    assert inspect.isawaitable(coro)
    coro.close()
