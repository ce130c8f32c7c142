"""Benchmarks: accuracy on labelled recordings, throughput and memory. They print numbers."""
