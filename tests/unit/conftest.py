"""Unit tests are pure: the network is switched off for them."""

from __future__ import annotations

import pytest
import pytest_socket


@pytest.fixture(autouse=True)
def _no_network():
    pytest_socket.disable_socket()
    yield
    pytest_socket.enable_socket()
