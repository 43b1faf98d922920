"""Start-up hook of a pyrelo bundle, in its standard library folder (installed by pyrelo build).

Every interpreter that uses this standard library imports it at start-up: the bundle's own, and
every venv made from the bundle (`python -m venv`, virtualenv), which has its own site-packages
and so never sees the bundle's pyrelo-host.pth. It installs the host-supplies hook (_pyrelo_host:
the host's CA store for ssl, terminfo for curses) and then runs the sitecustomize Python would have
imported without this file: the base interpreter's own (kept as _pyrelo_base_sitecustomize.py), or
else the next `sitecustomize` on sys.path (one an application installed into site-packages).

`python -S` imports no site and so none of this. Nothing here touches os.environ or imports ssl.
"""


def _chain():
    import os
    import sys
    try:
        import _pyrelo_host
        _pyrelo_host.install()
    except Exception:  # a broken hook must never stop the interpreter from starting
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    base = os.path.join(here, "_pyrelo_base_sitecustomize.py")
    if not os.path.isfile(base) and os.path.isfile(base + "c"):
        base += "c"  # a sourceless bundle keeps only the bytecode
    if os.path.isfile(base):
        import importlib.util
        spec = importlib.util.spec_from_file_location("sitecustomize", base)
    else:
        # Only the folders after this one: one before it would have been imported instead of us.
        later = []
        for i, entry in enumerate(sys.path):
            if os.path.abspath(entry or os.curdir) == here:
                later = sys.path[i + 1:]
                break
        if not later:
            return
        # The path finder start-up already uses, from sys.meta_path: importing importlib.machinery
        # for it would cost more than the rest of this file.
        finder = next((f for f in sys.meta_path if getattr(f, "__name__", None) == "PathFinder"), None)
        if finder is None:
            from importlib.machinery import PathFinder as finder
        spec = finder.find_spec("sitecustomize", later)
    if spec is None or spec.loader is None:
        return
    import importlib.util
    module = importlib.util.module_from_spec(spec)
    # `import sitecustomize` (site.execsitecustomize) returns what sys.modules holds once this
    # file has run, so the chained module takes our place as it would have without us.
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_chain()
del _chain
