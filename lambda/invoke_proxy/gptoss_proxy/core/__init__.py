"""The proxy's pure core: no boto3, no Lambda event shapes; I/O arrives as injected callables."""
