"""Tree-sitter parsing and the shared queries over Rust syntax trees."""
