"""Break policy and exercise library: pure, driven by epochs carrying data time."""
