"""Build hook: `templates/` and `migrations/` live at the top of the checkout (the layout is fixed), yet an
installed app needs them, so the wheel carries them inside the package as `marketing/templates` and
`marketing/migrations`. Editable installs skip the copy: the app reads them from the checkout
(see `marketing.ROOT`). Everything else is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("templates", "migrations")


class BuildPyWithAppFolders(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        for name in BUNDLED:
            shutil.copytree(Path(name), Path(self.build_lib, "marketing", name), dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithAppFolders})
