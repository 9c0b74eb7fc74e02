"""Go tools built from patched source: the patches apply, and the build stamp names them (a
changed patch rebuilds the binary). Fast: no Go build, no stack."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from services.stack.errors import StackError
from services.stack.gotools import (
    FERRETDB_PATCHES,
    GO_TOOLS,
    GoTool,
    apply_patch,
    is_built,
    prepare_source,
    stamp_path,
)
from services.stack.paths import StackPaths

FERRETDB = GO_TOOLS["ferretdb"]

PATCH = """A header line, ignored by git apply.

--- a/greeting.txt
+++ b/greeting.txt
@@ -1,2 +1,2 @@
 hello
-world
+fleet
"""


def tool_with(patches: tuple[Path, ...], version_txt: str = "v1.0.0\n") -> GoTool:
    return GoTool(
        "example.com/tool/cmd/tool",
        "v1.0.0",
        module="example.com/tool",
        source_files=(("build/version.txt", version_txt),),
        patches=patches,
    )


def test_the_stamp_of_a_plain_tool_is_its_spec():
    """Tools built as they are keep the stamp they always had (no rebuild for them)."""
    pint = GO_TOOLS["pint"]
    assert not pint.patches and not pint.source_files
    assert pint.build_id == pint.spec == "github.com/cloudflare/pint/cmd/pint@v0.87.0"


def test_the_stamp_changes_with_the_patches_and_the_written_files(tmp_path):
    first = tmp_path / "0001-fix.patch"
    first.write_text(PATCH)
    base = tool_with((first,)).build_id
    assert base.startswith("example.com/tool/cmd/tool@v1.0.0 source-sha256:")
    assert tool_with((first,)).build_id == base  # same content, same stamp

    moved = tmp_path / "elsewhere" / "0001-fix.patch"  # another checkout: same stamp
    moved.parent.mkdir()
    moved.write_text(PATCH)
    assert tool_with((moved,)).build_id == base

    first.write_text(PATCH.replace("+fleet", "+fleets"))
    assert tool_with((first,)).build_id != base
    first.write_text(PATCH)

    second = tmp_path / "0002-more.patch"
    second.write_text(PATCH)
    assert tool_with((first, second)).build_id != base
    assert tool_with(()).build_id != base
    assert tool_with((first,), version_txt="v1.0.0-fleet.2\n").build_id != base


def test_a_binary_built_without_the_current_patches_is_rebuilt(tmp_path):
    paths = StackPaths(tmp_path / "stack", tmp_path / "cache")
    paths.bin.mkdir(parents=True)
    (paths.bin / "ferretdb").write_bytes(b"binary")
    stamp = stamp_path(FERRETDB, paths)
    assert stamp.name == ".ferretdb.version"  # the config input that restarts FerretDB

    stamp.write_text(FERRETDB.spec + "\n")  # what the unpatched build wrote
    assert not is_built(FERRETDB, paths)
    stamp.write_text(FERRETDB.build_id + "\n")
    assert is_built(FERRETDB, paths)
    patched = dataclasses.replace(FERRETDB, patches=FERRETDB.patches[:1])
    assert not is_built(patched, paths)


def test_ferretdb_is_built_with_every_patch_of_its_folder():
    assert FERRETDB.patches == tuple(sorted(FERRETDB_PATCHES.glob("*.patch")))
    assert FERRETDB.patches  # and none forgotten: the folder is the list
    version = dict(FERRETDB.source_files)["build/version/version.txt"]
    assert version.startswith(f"{FERRETDB.version}-fleet.")  # the binary says it is patched


def test_a_missing_patch_is_one_line_naming_it(tmp_path):
    tool = tool_with((tmp_path / "0001-gone.patch",))
    with pytest.raises(StackError, match=r"^tool: cannot read patch .*0001-gone\.patch: "):
        _ = tool.build_id


def test_the_ferretdb_patches_apply_to_its_module(tmp_path):
    """The real thing, without the build: FerretDB's module from the Go module cache (or proxy),
    copied, version.txt written, our patches applied."""
    source = tmp_path / "ferretdb"
    prepare_source(FERRETDB, source, StackPaths(tmp_path / "stack", tmp_path / "cache"))

    metadata = (source / "internal/backends/sqlite/metadata/metadata.go").read_text()
    assert "IDColumn = DefaultColumn + \"->'_id'\"" in metadata
    update = (source / "internal/handler/msg_update.go").read_text()
    assert "defer closer.Close()" not in update
    assert "\t\tcloser.Close()\n" in update
    assert (source / "build/version/version.txt").read_text().startswith("v1.24.2-fleet.")


def test_a_patch_that_does_not_apply_is_one_line_naming_it(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "greeting.txt").write_text("hello\nthere\n")
    patch = tmp_path / "0001-fix.patch"
    patch.write_text(PATCH)

    with pytest.raises(StackError) as failure:
        apply_patch(tool_with((patch,)), patch, source)

    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith(f"tool: patch {patch} does not apply to example.com/tool@v1.0.0: ")
    assert "greeting.txt" in message
    assert (source / "greeting.txt").read_text() == "hello\nthere\n"  # left as it was


def test_a_patch_applies_inside_another_git_repository(tmp_path, monkeypatch):
    """The build folder may sit in this checkout (.stack/cache/build): git apply must patch the
    folder it runs in, not a repository around it, even with GIT_DIR set (as in a git hook)."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.setenv("GIT_DIR", str(tmp_path / ".git"))
    source = tmp_path / "cache" / "build" / "go-tool"
    source.mkdir(parents=True)
    (source / "greeting.txt").write_text("hello\nworld\n")
    patch = tmp_path / "0001-fix.patch"
    patch.write_text(PATCH)

    apply_patch(tool_with((patch,)), patch, source)

    assert (source / "greeting.txt").read_text() == "hello\nfleet\n"
