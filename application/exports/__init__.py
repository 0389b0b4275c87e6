"""What auditors and learning reviews take away: chronologies, review packs, samples and
decisions across children, each authorised and access-logged per child (issue 24,
ADR 0030). Assembled from the read models (``chronology``, ``review``, ``decisions``,
``sample``) and rendered as documents (``render``, ``pdf``, ``archive``) here, once, for
both adapters: the API may not import the CLI's package."""
