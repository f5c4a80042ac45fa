"""HTTP views served by every worker's web server."""
