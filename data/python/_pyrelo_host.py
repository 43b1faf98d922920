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

socket: 'localhost' resolves to the loopback even on a host without /etc/hosts, where glibc has
nothing to answer it from; only when the host's own resolver fails.

pwd and grp, in a bundle that carries its own glibc (lib/pyrelo-glibc): users and groups the
bundled glibc's NSS cannot see (a host module it cannot find, as on RHEL-family hosts whose
modules are in /usr/lib64, or cannot load, built for a newer glibc, such as libnss_sss) are asked
of the host's own `getent`, in a child process that runs on the host's loader and libc. Only after
a miss: what the bundled NSS answers is answered as before, and a process that never misses never
starts a child.

locale, in the build's smoke run only (`pyrelo build --smoke`, which sets PYRELO_SMOKE_LOCALES to a
file of its own): each locale name a setlocale call of the smoke command succeeded with is written
to that file, so the build records the locales the smoke command depends on. Without the variable
nothing is patched.

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
        from importlib.machinery import BuiltinImporter, PathFinder
        # pwd is compiled into the interpreter; grp, ssl, curses and socket are found on the path.
        spec = BuiltinImporter.find_spec(name) or PathFinder.find_spec(name, path)
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


def _is_localhost(host):
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def _patch_socket(socket):
    """'localhost' (RFC 6761: always the loopback) on hosts that cannot resolve it themselves.

    A root without /etc/hosts (a bare chroot or container image) leaves glibc nothing to answer
    'localhost' from, so servers and clients on localhost fail with "Name or service not known".
    Only when the host's own resolver fails does the hook answer: 127.0.0.1 (and ::1 when IPv6 is
    asked for explicitly, since IPv4 loopback exists everywhere and ::1 not always).
    """
    if getattr(socket, "_pyrelo_host", False):
        return
    original_getaddrinfo = socket.getaddrinfo
    original_gethostbyname = socket.gethostbyname
    original_gethostbyname_ex = socket.gethostbyname_ex

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        try:
            return original_getaddrinfo(host, port, family, type, proto, flags)
        except socket.gaierror:
            if not _is_localhost(host):
                raise
            if port is None:
                number = 0
            elif isinstance(port, int) or (isinstance(port, (str, bytes)) and port.isdigit()):
                number = int(port)
            else:
                raise  # a service name: the host's own services database has to answer it
            if family == socket.AF_INET6:
                address = (socket.AF_INET6, ("::1", number, 0, 0))
            elif family in (0, socket.AF_UNSPEC, socket.AF_INET):
                address = (socket.AF_INET, ("127.0.0.1", number))
            else:
                raise
            canonical = "localhost" if flags & socket.AI_CANONNAME else ""
            kinds = [(type, proto)] if type else [(socket.SOCK_STREAM, socket.IPPROTO_TCP), (socket.SOCK_DGRAM, socket.IPPROTO_UDP), (socket.SOCK_RAW, 0)]
            return [(address[0], kind, kind_proto or proto, canonical, address[1]) for kind, kind_proto in kinds]

    def answering_localhost(original, answer):
        """`original`, but `answer()` for a localhost name the host cannot resolve."""
        def call(host):
            try:
                return original(host)
            except OSError:
                if not _is_localhost(host):
                    raise
                return answer()
        return call

    gethostbyname = answering_localhost(original_gethostbyname, lambda: "127.0.0.1")
    gethostbyname_ex = answering_localhost(original_gethostbyname_ex, lambda: ("localhost", [], ["127.0.0.1"]))

    def loopback(family, address):
        """The address with a localhost name replaced by the loopback, or None."""
        if not (isinstance(address, tuple) and len(address) >= 2 and _is_localhost(address[0])):
            return None
        if family == socket.AF_INET:
            return ("127.0.0.1",) + address[1:]
        if family == socket.AF_INET6:
            return ("::1",) + address[1:]
        return None

    # bind, connect and sendto resolve a name in C, past getaddrinfo above (socketserver,
    # http.server and SysLogHandler pass ('localhost', port) straight to them).
    def retrying(method, address_at):
        def call(self, *args):
            try:
                return method(self, *args)
            except socket.gaierror:
                at = address_at if address_at >= 0 else len(args) + address_at
                replaced = loopback(self.family, args[at]) if 0 <= at < len(args) else None
                if replaced is None:
                    raise
                return method(self, *args[:at], replaced, *args[at + 1:])
        call.__name__ = method.__name__
        call.__doc__ = method.__doc__
        return call

    for wrapper, original in ((getaddrinfo, original_getaddrinfo), (gethostbyname, original_gethostbyname), (gethostbyname_ex, original_gethostbyname_ex)):
        wrapper.__doc__ = original.__doc__
        wrapper.__name__ = original.__name__
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = gethostbyname
    socket.gethostbyname_ex = gethostbyname_ex
    cls = socket.socket
    cls.bind = retrying(cls.bind, 0)
    cls.connect = retrying(cls.connect, 0)
    cls.connect_ex = retrying(cls.connect_ex, 0)
    cls.sendto = retrying(cls.sendto, -1)  # sendto(data[, flags], address): the address is last
    socket._pyrelo_host = True


def _bundled_glibc():
    """True in a bundle built with --libc bundle (its interpreter runs on lib/pyrelo-glibc)."""
    import os
    return os.path.isdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "pyrelo-glibc"))


def _host_getent(database, key):
    """The fields of the host's `getent DATABASE KEY` answer, or None (no getent, or no answer)."""
    import os
    import subprocess
    getent = next((p for p in ("/usr/bin/getent", "/bin/getent") if os.access(p, os.X_OK)), None)
    if getent is None:
        return None
    try:
        # `--` first: a key starting with '-' is a key, not an option. The child is a host program:
        # it starts with the host's loader and libc, and this process exported nothing to it.
        done = subprocess.run([getent, "--", database, key], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return None
    if done.returncode != 0:
        return None
    line = done.stdout.decode("utf-8", "surrogateescape").split("\n", 1)[0]
    return line.split(":")


def _passwd_entry(pwd, fields):
    if fields is None or len(fields) < 7 or not fields[2].isdigit() or not fields[3].isdigit():
        return None
    name, password, uid, gid, gecos, home = fields[:6]
    return pwd.struct_passwd((name, password, int(uid), int(gid), gecos, home, ":".join(fields[6:])))


def _group_entry(grp, fields):
    if fields is None or len(fields) != 4 or not fields[2].isdigit():
        return None
    name, password, gid, members = fields
    return grp.struct_group((name, password, int(gid), [m for m in members.split(",") if m]))


def _asking_host(original, database, entry, matches):
    """`original`, but on KeyError the host's getent answers (an entry for which `matches` holds)."""
    def call(key):
        try:
            return original(key)
        except KeyError:
            # getent takes a numeric key for an id: only exact answers count.
            if isinstance(key, bool) or not isinstance(key, (str, int)) or (isinstance(key, int) and key < 0):
                raise
            answer = entry(_host_getent(database, str(key)))
            if answer is None or not matches(answer, key):
                raise
            return answer
    call.__name__ = original.__name__
    call.__doc__ = original.__doc__
    return call


def _patch_pwd(pwd):
    if getattr(pwd, "_pyrelo_host", False) or not _bundled_glibc():
        return
    entry = lambda fields: _passwd_entry(pwd, fields)
    pwd.getpwnam = _asking_host(pwd.getpwnam, "passwd", entry, lambda e, key: e.pw_name == key)
    pwd.getpwuid = _asking_host(pwd.getpwuid, "passwd", entry, lambda e, key: isinstance(key, int) and e.pw_uid == key)
    pwd._pyrelo_host = True


def _patch_grp(grp):
    if getattr(grp, "_pyrelo_host", False) or not _bundled_glibc():
        return
    entry = lambda fields: _group_entry(grp, fields)
    grp.getgrnam = _asking_host(grp.getgrnam, "group", entry, lambda e, key: e.gr_name == key)
    grp.getgrgid = _asking_host(grp.getgrgid, "group", entry, lambda e, key: isinstance(key, int) and e.gr_gid == key)
    grp._pyrelo_host = True


_PATCHES = {"ssl": _patch_ssl, "curses": _patch_curses, "socket": _patch_socket, "pwd": _patch_pwd, "grp": _patch_grp}


def _record_locales(path):
    """_locale.setlocale (behind locale.setlocale), writing each name it succeeds with to `path`."""
    import _locale
    if getattr(_locale, "_pyrelo_host", False):
        return
    original = _locale.setlocale

    def setlocale(category, locale=None):
        result = original(category, locale)  # raises locale.Error when the name is not there
        # "" takes the environment's locale and None only asks: neither is a name the app chose.
        if isinstance(locale, str) and locale not in ("", "C", "POSIX"):
            try:
                with open(path, "a", encoding="utf-8") as f:
                    f.write(locale.replace("\n", " ") + "\n")
            except OSError:
                pass
        return result

    setlocale.__doc__ = original.__doc__
    _locale.setlocale = setlocale
    _locale._pyrelo_host = True
    if "locale" in sys.modules:
        sys.modules["locale"]._setlocale = setlocale  # bound when locale.py was imported


def install():
    import os
    record = os.environ.get("PYRELO_SMOKE_LOCALES")
    if record:
        try:
            _record_locales(record)
        except Exception:  # the recording is the build's business; never stop the interpreter
            pass
    for name, patch in _PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    if _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)
