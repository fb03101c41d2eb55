"""Fixtures that run the real switchboard binary.

The binary is SWITCHBOARD_BIN (default .build/debug/switchboard, relative to the
working directory or the repository root). Every server gets a free loopback
port and a fresh data dir, and must exit 0 on SIGTERM (graceful shutdown).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from interop_support import Server, binary_path


@pytest.fixture(scope="session")
def switchboard_bin() -> Path:
    path = binary_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"switchboard binary not found at {path} "
            "(build it first, or set SWITCHBOARD_BIN)",
            pytrace=False,
        )
    return path


def _new_server(tmp_path_factory, binary: Path, *, dev: bool, data_dir: Path | None = None,
                extra_args=(), env=None, config=None, tls=None) -> Server:
    if data_dir is None:
        data_dir = tmp_path_factory.mktemp("sb-data")
    log_path = data_dir.parent / f"{data_dir.name}.server.log"
    return Server(binary, data_dir, log_path, dev=dev, extra_args=extra_args, env=env,
                  config=config, tls=tls).start()


class _ServerFactory:
    """Starts servers and, at the end, stops every one still running (each must exit 0)."""

    def __init__(self, tmp_path_factory, binary: Path) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.binary = binary
        self.started: list[Server] = []

    def __call__(self, *, dev: bool = True, data_dir: Path | None = None, extra_args=(),
                 env=None, config=None, tls=None) -> Server:
        srv = _new_server(self.tmp_path_factory, self.binary, dev=dev, data_dir=data_dir,
                          extra_args=extra_args, env=env, config=config, tls=tls)
        self.started.append(srv)
        return srv

    def stop_all(self) -> None:
        failures = []
        for srv in self.started:
            if srv.proc is not None:
                try:
                    srv.stop_and_assert_clean()
                except AssertionError as e:
                    failures.append(str(e))
        assert not failures, "\n\n".join(failures)


@pytest.fixture(scope="module")
def server(switchboard_bin, tmp_path_factory):
    """A --dev server shared by one test module (tests use unique channels)."""
    srv = _new_server(tmp_path_factory, switchboard_bin, dev=True)
    yield srv
    srv.stop_and_assert_clean()


@pytest.fixture(scope="module")
def auth_server(switchboard_bin, tmp_path_factory):
    """A server without --dev; srv.api_key is the admin key read from DIR/admin.key
    and srv.session sends it as `Authorization: Bearer`."""
    srv = _new_server(tmp_path_factory, switchboard_bin, dev=False)
    yield srv
    srv.stop_and_assert_clean()


@pytest.fixture
def server_factory(switchboard_bin, tmp_path_factory):
    """Start servers of one's own: factory(dev=True, data_dir=None, extra_args=(), env=None,
    config=None, tls=None). Reusing a data_dir restarts on the same data; env adds environment
    variables (SWITCHBOARD_… configuration); config is the content of a --config JSON file
    (nested keys); tls=(cert, key) serves https/wss. Every server still running at the end of
    the test is stopped and must exit 0 (one ended with srv.crash() is not running)."""
    factory = _ServerFactory(tmp_path_factory, switchboard_bin)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="module")
def module_server_factory(switchboard_bin, tmp_path_factory):
    """Like server_factory, for servers shared by one test module (module-scoped fixtures)."""
    factory = _ServerFactory(tmp_path_factory, switchboard_bin)
    yield factory
    factory.stop_all()
