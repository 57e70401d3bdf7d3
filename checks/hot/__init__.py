"""Which functions are hot: configured patterns, `// ruvopt: hot` markers, and the functions a crate's benches call."""
