"""An agent's or a visitor's files go to the file store before the action that records
them (actions/attachments.keep_ahead): checked first, then stored, then named."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from threadline.actions.attachments import check_outbound_files, keep_ahead
from threadline.actions.errors import ActionError
from threadline.core.capabilities import MAX_ATTACHMENTS
from threadline.core.model import Attachment, StoredFile
from threadline.storage.files import file_path

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_a_kept_file_is_checked_stored_and_handed_on_by_name_without_its_bytes(
    tmp_path: Path,
) -> None:
    [kept] = keep_ahead(tmp_path, [Attachment("../../shot.png", "text/html", PNG)])
    digest = hashlib.sha256(PNG).hexdigest()
    assert (kept.filename, kept.content_type) == ("shot.png", "image/png")
    assert (kept.data, kept.stored, kept.size) == (b"", StoredFile(digest, len(PNG)), len(PNG))
    assert file_path(tmp_path, digest).read_bytes() == PNG


def test_a_refused_bundle_never_reaches_the_store(tmp_path: Path) -> None:
    too_many = [Attachment(f"{n}.png", "image/png", PNG) for n in range(MAX_ATTACHMENTS + 1)]
    with pytest.raises(ActionError, match="attachments per message"):
        keep_ahead(tmp_path, too_many)
    with pytest.raises(ActionError, match="is empty"):
        keep_ahead(tmp_path, [Attachment("empty.txt", "text/plain", b"")])
    assert list(tmp_path.iterdir()) == []


def test_without_a_store_the_files_go_on_with_their_bytes() -> None:
    [kept] = keep_ahead(None, [Attachment("notes.txt", "text/plain", b"hello")])
    assert (kept.data, kept.stored) == (b"hello", None)


def test_the_action_takes_a_stored_file_as_it_is_and_still_checks_its_size() -> None:
    stored = Attachment("a.pdf", "application/pdf", b"", stored=StoredFile("ab" * 32, 2048))
    assert check_outbound_files([stored]) == (stored,)
    empty = Attachment("b.pdf", "application/pdf", b"", stored=StoredFile("cd" * 32, 0))
    with pytest.raises(ActionError, match="is empty"):
        check_outbound_files([empty])
