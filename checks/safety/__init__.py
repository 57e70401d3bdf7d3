"""clippy-exact SAFETY verdicts (undocumented_unsafe_blocks, missing_safety_doc)."""
