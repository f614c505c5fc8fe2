"""The audit: searching and exporting the change log, revert, the hash chain, retention."""
