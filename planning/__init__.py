"""Pure med sync arithmetic: due dates, short fills, anchor suggestion, PDC and candidates.

Nothing here reads a clock, a file or a database: callers pass plain dataclasses and dates in
and get dataclasses (with `to_json()`) back, so the CLI and the pharmacist pages share one rule.
"""

from __future__ import annotations
