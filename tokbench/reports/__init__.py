"""Reports: HTML (and later PDF) assembled from result objects; nothing here computes metrics."""
