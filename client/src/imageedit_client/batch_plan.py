"""What a batch will do: the photos of a folder, each one's mask, output path and idempotency key, and
which are finished already (the state file in the output folder and the files themselves say so)."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from imageedit_client.edits import file_digest, idempotency_key_for
from imageedit_client.exits import CliError
from imageedit_client.transfer import IMAGE_EXTENSIONS

STATE_NAME = ".imageedit-batch.jsonl"
MASK_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class BatchItem:
    photo: Path
    relative: Path  # the photo's path under IN_DIR: the output keeps its folders
    mask: Path | None
    key: str
    out_base: Path  # OUT_DIR/<folders>/<stem>, the result's extension added when it is known
    attempt: int = 0


@dataclass
class BatchPlan:
    pending: list[BatchItem] = field(default_factory=list)
    finished: list[tuple[BatchItem, dict]] = field(default_factory=list)  # with its recorded result
    unmatched: list[tuple[Path, str]] = field(default_factory=list)  # photo, why it cannot be sent

    @property
    def total(self) -> int:
        return len(self.pending) + len(self.finished) + len(self.unmatched)


def photos_find(in_dir: Path, *, recursive: bool, skip: frozenset[Path] = frozenset()) -> list[Path]:
    """The folder's images by name (hidden files, and the output and mask folders, left out), in a
    stable order."""
    found = []
    walker = os.walk(in_dir) if recursive else [(str(in_dir), [], os.listdir(in_dir))]
    for folder, folders, names in walker:
        folders[:] = sorted(
            name for name in folders if not name.startswith(".") and Path(folder, name).resolve() not in skip
        )
        for name in sorted(names):
            path = Path(folder, name)
            if not name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file():
                found.append(path)
    return found


def mask_find(mask: Path | None, relative: Path) -> Path | None:
    """One mask for all, or the mask of the same stem (in the same subfolder, else at the top)."""
    if mask is None or mask.is_file():
        return mask
    for folder in (mask / relative.parent, mask):
        for extension in MASK_EXTENSIONS:
            for candidate in (
                folder / f"{relative.stem}{extension}",
                folder / f"{relative.stem}{extension.upper()}",
            ):
                if candidate.is_file():
                    return candidate
    return None


def state_read(out_dir: Path) -> dict[str, dict]:
    """The last record of each photo (by its path under IN_DIR); a line cut short by a crash is ignored
    (its item simply runs again, and its key finds the edit already made)."""
    records: dict[str, dict] = {}
    try:
        lines = (out_dir / STATE_NAME).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return records
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("key") and record.get("photo"):
            records[record["photo"]] = record
    return records


def state_append(out_dir: Path, record: dict) -> None:
    """One JSON line per finished item, flushed to disk before the next starts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / STATE_NAME).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def leftovers_remove(out_dir: Path) -> None:
    """Partial downloads of an interrupted run (.<name>.<pid>.part): never results, safe to remove."""
    if out_dir.is_dir():
        for path in out_dir.rglob(".*.part"):
            path.unlink(missing_ok=True)


def _result_stem(relative: Path, same_stem: int) -> str:
    return relative.stem if same_stem == 1 else f"{relative.stem}-{relative.suffix.lstrip('.').lower()}"


def batch_plan(
    *,
    in_dir: Path,
    out_dir: Path,
    task: str,
    options: dict,
    mask: Path | None,
    mask_needed: bool,
    recursive: bool,
    retry_failed: bool = False,
) -> BatchPlan:
    if not in_dir.is_dir():
        raise CliError(f"{in_dir} is not a folder.")
    if mask is not None and not mask.exists():
        raise CliError(
            f"The mask {mask} does not exist (give a file for all photos, or a folder of masks by name)."
        )
    state = state_read(out_dir)
    plan = BatchPlan()
    mask_digests: dict[Path, str] = {}
    skip = frozenset(path.resolve() for path in (out_dir, mask) if path is not None)
    photos = photos_find(in_dir, recursive=recursive, skip=skip)
    # Two photos of one stem in one folder (a.jpg, a.png) would write the same result: name them apart.
    stems = Counter((photo.parent, photo.stem.lower()) for photo in photos)
    for photo in photos:
        relative = photo.relative_to(in_dir)
        photo_mask = mask_find(mask, relative)
        if mask is not None and photo_mask is None:
            plan.unmatched.append((photo, f"no mask named {relative.stem}.png (or .jpg, .webp) in {mask}"))
            continue
        if mask_needed and photo_mask is None:
            plan.unmatched.append((photo, f"the '{task}' task needs a mask (--mask FILE or FOLDER)"))
            continue
        if photo_mask is not None and photo_mask not in mask_digests:
            mask_digests[photo_mask] = file_digest(photo_mask)
        digests = {"photo": file_digest(photo), "mask": mask_digests.get(photo_mask)}
        record = state.get(relative.as_posix())
        attempt = int(record.get("attempt", 0)) if record else 0
        key = idempotency_key_for(**digests, task=task, options=options, attempt=attempt)
        if record and record.get("key") != key:
            record, attempt = None, 0  # the photo, its mask or the parameters changed: a new item
            key = idempotency_key_for(**digests, task=task, options=options, attempt=0)
        if record and record.get("status") == "FAILED" and retry_failed:
            attempt += 1
            key = idempotency_key_for(**digests, task=task, options=options, attempt=attempt)
            record = None
        same_stem = stems[(photo.parent, photo.stem.lower())]
        item = BatchItem(
            photo=photo,
            relative=relative,
            mask=photo_mask,
            key=key,
            out_base=out_dir / relative.parent / _result_stem(relative, same_stem),
            attempt=attempt,
        )
        outputs = [out_dir / name for name in (record or {}).get("outputs", [])]
        if (
            record
            and record.get("status") == "SUCCEEDED"
            and outputs
            and all(path.is_file() for path in outputs)
        ):
            plan.finished.append((item, record))
        else:
            plan.pending.append(item)
    return plan
