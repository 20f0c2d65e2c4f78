"""Developer and reviewer tools of gpt-oss-platform (not part of the app or the construct library)."""
