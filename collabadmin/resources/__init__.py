"""Records: resource declarations, the policy, values, list queries, the record service."""
