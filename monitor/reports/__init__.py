"""Daily and weekly sitting reports: pure computations, then text / JSON / HTML renderers."""
