"""Use cases: each combines domain rules with adapters; handlers call exactly one."""
