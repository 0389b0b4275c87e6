"""What auditors and learning reviews take away: chronologies, review packs, samples and
decisions across children, each authorised and access-logged per child (issue 24,
ADR 0030). The adapters render them (``oversight.exports``)."""
