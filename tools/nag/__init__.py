"""cdk-nag review reports, split by job: ``packs`` (what the packs say about themselves), ``recheck`` (every
rule on every resource, on Node), ``assembly`` (what a cloud assembly records), ``model`` (rows and counts),
``render`` (Markdown/CSV, the matrix index and the exceptions register), ``matrix`` (the configurations we ship,
provenance). ``tools/nag_report.py`` is the command line."""
