"""Build the Teams app package (the zip an admin uploads) from the `teams_app/` folder.

`teams_app/manifest.json` keeps two placeholders, `{{TEAMS_APP_ID}}` (the Azure Bot's Microsoft
App ID, also used as the Teams app id) and `{{SITELINE_HOST}}` (where `siteline serve` is
reachable over HTTPS); this fills them in and zips the manifest with its two icons:

    python -m bot.teams.app_package --app-id <GUID> --host siteline.example.org --out siteline-teams.zip
"""

from __future__ import annotations

import argparse
import json
import re
import zipfile
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[2] / "teams_app"
FILES = ("manifest.json", "color.png", "outline.png")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def manifest(app_id: str, host: str, folder: Path = FOLDER) -> dict[str, object]:
    """The manifest with the placeholders filled in; a bad app id or host is refused, naming it."""
    if not GUID.match(app_id):
        raise ValueError(f"--app-id: {app_id!r} is not a GUID (the Azure Bot's Microsoft App ID)")
    if not HOST.match(host):
        raise ValueError(f"--host: {host!r} is not a host name (e.g. siteline.example.org, no https://)")
    text = (folder / "manifest.json").read_text(encoding="utf-8")
    filled = text.replace("{{TEAMS_APP_ID}}", app_id).replace("{{SITELINE_HOST}}", host)
    data: dict[str, object] = json.loads(filled)
    return data


def build(app_id: str, host: str, out: Path, folder: Path = FOLDER) -> Path:
    data = manifest(app_id, host, folder)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(data, indent=2))
        for name in FILES[1:]:
            zf.write(folder / name, name)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the Siteline Teams app package (zip) to upload to Teams.")
    parser.add_argument("--app-id", required=True, help="the Azure Bot's Microsoft App ID (TEAMS_APP_ID)")
    parser.add_argument("--host", required=True, help="public host name of siteline serve (no https://)")
    parser.add_argument("--out", type=Path, default=Path("siteline-teams.zip"))
    args = parser.parse_args(argv)
    try:
        path = build(args.app_id, args.host, args.out)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"wrote {path}: upload it in Teams (Apps → Manage your apps → Upload an app)")


if __name__ == "__main__":
    main()
