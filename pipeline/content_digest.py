"""Content digests of files and folders, for the stages that stand in for many DVC dependencies
(`training_inputs`, `extractor_code`): a digest changes exactly when a file under it changes,
appears or goes. Python's bytecode caches are left out, as .dvcignore leaves them out of DVC's
own hashes (their bytes differ per clone)."""
import hashlib
from pathlib import Path

from features.file_hash import file_sha256


def _ignored(path: Path) -> bool:
    """What .dvcignore leaves out of DVC's hashes: Python's bytecode caches."""
    return "__pycache__" in path.parts or path.suffix == ".pyc"


def folder_digest(folder: Path) -> str:
    """sha256 over one `<relative path>\\0<sha256 of the file>\\n` line per file, in sorted path
    order (the files' own checksums keep a name and the bytes around it apart)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not _ignored(p.relative_to(folder))):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{file_sha256(str(path))}\n".encode())
    return digest.hexdigest()


def entry_digest(path: Path) -> str:
    """A folder's folder_digest, a file's sha256."""
    return folder_digest(path) if path.is_dir() else file_sha256(str(path))


def code_digests(entries: tuple[str, ...], owner: str, root: Path = Path(".")) -> dict[str, str]:
    """{entry: entry_digest} for code files and folders given from the repository root (stages run
    there); a missing one names itself and the list it is in (`owner`)."""
    found = {}
    for entry in entries:
        path = root / entry
        if not path.exists():
            raise FileNotFoundError(f"{path}: listed in {owner} but missing")
        found[entry] = entry_digest(path)
    return found
