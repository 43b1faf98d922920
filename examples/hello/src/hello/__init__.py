"""The quick start's sample app: proves the bundled interpreter has its stdlib and native modules."""

import platform
import sqlite3
import ssl
import sys
import zlib


def main() -> int:
    print(f"hello from Python {platform.python_version()} at {sys.prefix}")
    print(f"  sqlite {sqlite3.sqlite_version}, {ssl.OPENSSL_VERSION}, zlib {zlib.ZLIB_RUNTIME_VERSION}")
    ssl.create_default_context()  # loads a CA store: the host's, or the bundle's fallback
    return 0


if __name__ == "__main__":
    sys.exit(main())
