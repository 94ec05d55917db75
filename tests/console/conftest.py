"""A console on a temporary database, its accounts, and a signed-in test client."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.consent.record import ConsentPayload
from bot.console import migrate, staff, tables
from bot.console.app import create_app
from bot.records import consent_store
from tests.helpers.records import STORED_PAYLOAD
from tests.records.conftest import own_checkpoint_file  # noqa: F401 (autouse: each test its own checkpoint file)

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
FORM_TOKEN = re.compile(r'name="form_token" value="([0-9a-f]+)"')


@dataclass
class Console:
    app: FastAPI
    url: str

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://localhost:5080", follow_redirects=False)

    def account(self, name: str, role: str = "nurse", password: str = PASSWORD) -> str:
        """An account that has already chosen ``password`` (the one-time one changed)."""
        made, one_time = staff.add(name, role, self.url)
        staff.change_password(made.id, one_time, password, self.url)
        return name


def append_record(url: str, patient_ref: str | None = "MRN-1001") -> consent_store.Record:
    """A stored consent record of the shape every record has (tests/helpers/records.py)."""
    payload = ConsentPayload.from_json(STORED_PAYLOAD)
    return consent_store.append("conv-9", "rest", payload, "content-v1", patient_ref=patient_ref, url=url)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> TestClient:
    """Sign in through the form as a browser does; the client keeps the session cookie."""
    page = client.get("/signin")
    token = FORM_TOKEN.search(page.text)
    assert token, page.text
    response = client.post("/signin", data={"name": name, "password": password, "form_token": token.group(1)})
    assert response.status_code == 303, response.text
    return client


def csrf(client: TestClient, path: str = "/flags") -> str:
    """The CSRF token of the signed-in session, as its pages carry it."""
    found = CSRF.search(client.get(path).text)
    assert found
    return found.group(1)


@pytest.fixture
def console(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The console app on SQLite and, where it runs, PostgreSQL (the project's ``database_url`` fixture)."""
    _drop_console_tables(database_url)
    migrate.upgrade(database_url)
    tracker = f"sqlite:///{tmp_path_factory.mktemp('tracker')}/tracker.db"
    yield Console(create_app(database_url, tracker_url=tracker), database_url)
    _drop_console_tables(database_url)


def _drop_console_tables(url: str) -> None:
    """PostgreSQL is shared by the run: each test starts without the console's tables (SQLite files are new)."""
    if not url.startswith("postgresql"):
        return
    engine = sa.create_engine(url, future=True)
    with engine.begin() as connection:
        tables.METADATA.drop_all(connection)
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {migrate.VERSION_TABLE}"))
    engine.dispose()


@pytest.fixture
def nurse(console: Console) -> Callable[[], TestClient]:
    """A fresh client signed in as a nurse."""
    console.account("rn.lee")

    def make() -> TestClient:
        return sign_in(console.client(), "rn.lee")

    return make
