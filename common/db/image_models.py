"""Image service tables (owned by altostack-image)."""
