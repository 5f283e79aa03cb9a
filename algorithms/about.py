"""What the plugin is and where it lives: its folder, icons, homepage, log tag and version."""

import os

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESOURCES_DIR = os.path.join(PLUGIN_DIR, "resources")
HOMEPAGE = "https://github.com/radiomatch/radiomatch"
LOG_TAG = "RadioMatch"


def icon_path(name):
    return os.path.join(RESOURCES_DIR, name)


def plugin_version():
    """The ``version`` of metadata.txt (read without configparser's interpolation)."""
    try:
        with open(os.path.join(PLUGIN_DIR, "metadata.txt"), encoding="utf-8") as handle:
            for line in handle:
                if line.strip().startswith("version="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""

