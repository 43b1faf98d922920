"""What the host supplies, found where this host keeps it (installed by pyrelo build).

The bundle's OpenSSL was built with its build host's OPENSSLDIR (Debian: /usr/lib/ssl), where
other hosts keep nothing. When the ssl module is first imported, this hook makes its default
verify paths (ssl.create_default_context, SSLContext.load_default_certs, urllib, http.client)
also use the first CA store of this host listed in lib/pyrelo/host-certs.json, or, on a host
without any, the CA file bundled next to it. SSL_CERT_FILE / SSL_CERT_DIR, when set, win and
nothing is added. Nothing is written to os.environ: child processes see the environment as it was.

curses: while curses.setupterm / curses.initscr read the terminal description, TERMINFO_DIRS
names the host's terminfo folders (lib/pyrelo/host-terminfo.json) and then the few entries the
bundle carries, for hosts that have none; the environment is restored right after.

Installed at start-up by lib/python3.X/sitecustomize.py (so venvs made from the bundle, which share
its standard library, have it too) and by lib/python3.X/site-packages/pyrelo-host.pth (so the bundle
has it even when PYTHONPATH puts another sitecustomize first); installing twice changes nothing.
`python -S` skips both (and all of site).
"""

import sys

_spec = None


def _read_spec():
    global _spec
    if _spec is None:
        import json
        import os
        here = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "pyrelo")
        try:
            with open(os.path.join(here, "host-certs.json"), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            data = {}
        fallback = data.get("fallback")
        _spec = (
            [e["path"] for e in data.get("files", [])],
            [e["path"] for e in data.get("dirs", [])],
            os.path.normpath(os.path.join(here, fallback)) if fallback else None,
        )
    return _spec


def user_override():
    """True when the user points OpenSSL at a store (SSL_CERT_FILE or SSL_CERT_DIR)."""
    import os
    return bool(os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"))


def host_store():
    """(cafile, capath): this host's first CA file and folder; the bundled file when it has neither."""
    import os
    files, dirs, fallback = _read_spec()
    cafile = next((p for p in files if os.path.isfile(p)), None)
    capath = next((p for p in dirs if os.path.isdir(p)), None)
    if cafile is None and capath is None and fallback is not None and os.path.isfile(fallback):
        cafile = fallback
    return cafile, capath


def _same(a, b):
    import os
    return a is not None and b is not None and os.path.realpath(a) == os.path.realpath(b)


def _patch_ssl(ssl):
    if getattr(ssl, "_pyrelo_host", False):
        return
    original_set = ssl.SSLContext.set_default_verify_paths
    original_paths = ssl.get_default_verify_paths

    def set_default_verify_paths(self):
        original_set(self)
        if user_override():
            return
        compiled = original_paths()  # the compiled-in OPENSSLDIR paths, None where missing
        cafile, capath = host_store()
        for kind, path, loaded in (("cafile", cafile, compiled.cafile), ("capath", capath, compiled.capath)):
            if path is None or _same(path, loaded):
                continue
            try:
                self.load_verify_locations(**{kind: path})
            except (OSError, ssl.SSLError):
                pass  # an unreadable store counts as none, as OpenSSL treats its own default

    def get_default_verify_paths():
        paths = original_paths()
        if user_override():
            return paths
        cafile, capath = host_store()
        return paths._replace(cafile=paths.cafile or cafile, capath=paths.capath or capath)

    set_default_verify_paths.__doc__ = original_set.__doc__
    get_default_verify_paths.__doc__ = original_paths.__doc__
    ssl.SSLContext.set_default_verify_paths = set_default_verify_paths
    ssl.get_default_verify_paths = get_default_verify_paths
    ssl._pyrelo_host = True


class _Loader:
    """A module's own loader, patching the module once it has run."""

    def __init__(self, loader, patch):
        self._loader = loader
        self._patch = patch

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        try:
            self._patch(module)
        except Exception:  # a module not shaped as expected stays as it is, importable
            pass


class _Finder:
    """Finds nothing but the modules patched here (as the path finder would), so start-up imports none."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name not in _PATCHES:
            return None
        from importlib.machinery import PathFinder
        spec = PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _Loader(spec.loader, _PATCHES[name])
        return spec


def _terminfo_dirs():
    """TERMINFO_DIRS for curses: the host's terminfo folders, then the bundled entries."""
    import json
    import os
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "pyrelo")
    try:
        with open(os.path.join(here, "host-terminfo.json"), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    bundled = os.path.normpath(os.path.join(here, "terminfo"))
    dirs = [d for d in data.get("hostDirs", []) if os.path.isdir(d)]
    if os.path.isdir(bundled):
        dirs.append(bundled)
    return ":".join(dirs) if dirs else None


def _with_terminfo(func):
    def call(*args, **kwargs):
        import os
        if "TERMINFO" in os.environ or "TERMINFO_DIRS" in os.environ:
            return func(*args, **kwargs)  # the user's choice (or an outer call of ours)
        dirs = _terminfo_dirs()
        if dirs is None:
            return func(*args, **kwargs)
        os.environ["TERMINFO_DIRS"] = dirs  # ncurses reads it now; children started later never see it
        try:
            return func(*args, **kwargs)
        finally:
            os.environ.pop("TERMINFO_DIRS", None)
    call.__name__ = func.__name__
    call.__doc__ = func.__doc__
    return call


def _patch_curses(curses):
    if getattr(curses, "_pyrelo_host", False):
        return
    # curses.initscr calls the module's setupterm, then _curses.initscr: both read the terminfo.
    curses.setupterm = _with_terminfo(curses.setupterm)
    curses.initscr = _with_terminfo(curses.initscr)
    curses._pyrelo_host = True


_PATCHES = {"ssl": _patch_ssl, "curses": _patch_curses}


def install():
    for name, patch in _PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    if _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)
