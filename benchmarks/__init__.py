"""Side-by-side benchmarks: acognito vs pycognito vs the raw limit (run each script directly)."""
