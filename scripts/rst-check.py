#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check reStructuredText files with docutils: any warning or error fails.

The kernel's Sphinx-only directives (kernel-doc) are accepted and ignored:
kernel-doc itself checks the comments they pull in.
"""
import sys

from docutils.core import publish_doctree
from docutils.parsers.rst import Directive, directives


class Ignored(Directive):
    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = None

    def run(self):
        return []


class AnyOptions(dict):
    def __getitem__(self, key):
        return directives.unchanged


Ignored.option_spec = AnyOptions()
directives.register_directive("kernel-doc", Ignored)

status = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        publish_doctree(text, source_path=path,
                        settings_overrides={"halt_level": 2,
                                            "report_level": 2,
                                            "warning_stream": sys.stderr})
    except Exception as e:  # docutils raises SystemMessage at halt_level
        print(f"{path}: {e}", file=sys.stderr)
        status = 1
sys.exit(status)
