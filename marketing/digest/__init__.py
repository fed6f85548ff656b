"""The weekly summary and the alert digest: a seller's week computed once, each user's email assembled from
those figures plus what needs the reader now (pending suggestions, authorizations, syncs), and rendered
as HTML (CSS inlined, bars instead of images) with a plain-text part carrying the same content."""
