# SPDX-License-Identifier: GPL-2.0
"""faultline reports: stream/TAP parsing, result model, renderers, merge, diff."""
from __future__ import annotations

__version__ = "0.1.0"
REPORT_SCHEMA_VERSION = 1
